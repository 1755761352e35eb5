package ekmsim

import (
	"fmt"
	"strings"
)

// The lexer of the OData subset (see odata.go): identifiers, single-quoted
// strings with '' for a quote, numbers, parentheses, and datetime'...' /
// datetimeoffset'...' literals.

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokDate // datetime'...' or datetimeoffset'...'
	tokLParen
	tokRParen
)

type token struct {
	kind tokKind
	text string // identifier, unquoted string or number text
	pos  int
}

// lex splits a query into tokens.
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i})
			i++
		case c == '\'':
			str, next, err := lexString(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokString, str, i})
			i = next
		case isDigit(c) || (c == '-' && i+1 < len(s) && isDigit(s[i+1])):
			j := i + 1
			for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
				j++
			}
			toks = append(toks, token{tokNumber, s[i:j], i})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && (isIdentStart(s[j]) || isDigit(s[j])) {
				j++
			}
			word := s[i:j]
			lower := strings.ToLower(word)
			if j < len(s) && s[j] == '\'' && (lower == "datetime" || lower == "datetimeoffset") {
				str, next, err := lexString(s, j)
				if err != nil {
					return nil, err
				}
				toks = append(toks, token{tokDate, str, i})
				i = next
				continue
			}
			toks = append(toks, token{tokIdent, word, i})
			i = j
		default:
			return nil, fmt.Errorf("%w: unexpected character %q at %d", ErrInvalidSearch, c, i)
		}
	}
	return append(toks, token{tokEOF, "", len(s)}), nil
}

// lexString reads a single-quoted string starting at s[start] == '\”, where
// ” stands for one quote, and returns its content and the index after it.
func lexString(s string, start int) (string, int, error) {
	var b strings.Builder
	for i := start + 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), i + 1, nil
	}
	return "", 0, fmt.Errorf("%w: unterminated string at %d", ErrInvalidSearch, start)
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
