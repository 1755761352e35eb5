package ekmsim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// This file implements the subset of OData $filter that EKM's search endpoints
// accept and ekmsync needs: comparisons (eq ne gt ge lt le) of one field with
// one literal, joined by and/or/not and parentheses. Keywords are
// case-insensitive; field names are EKM's snake_case response names. A small
// hand-written lexer and recursive-descent parser keep every failure an error
// (never a panic), which FuzzParse checks.

// ErrInvalidSearch is returned, wrapped, for any query the subset does not
// accept; the HTTP layer turns it into EKM's "Invalid search expression".
var ErrInvalidSearch = errors.New("invalid search expression")

// Kind is the type of a field or literal in a search expression.
type Kind uint8

// The kinds of values an expression compares.
const (
	KindNull   Kind = iota // null, or a string field's empty value
	KindString             // a single-quoted string
	KindNumber             // an integer or decimal
	KindBool               // true or false
	KindTime               // a datetime'...' literal, or a quoted date compared with a date field
)

// Value is a typed value of a record field or a literal.
type Value struct {
	Kind Kind
	Str  string
	Num  float64
	Bool bool
	Time time.Time
}

// Field describes one searchable and sortable field.
type Field struct {
	// Kind is the field's type.
	Kind Kind
	// Fold makes string comparisons case-insensitive (order statuses).
	Fold bool
}

// Fields maps field names to their descriptions for one kind of record.
type Fields map[string]Field

// Record is anything a search expression can be evaluated against.
type Record interface {
	// Value returns the named field's value; it is only asked for fields of
	// the Fields the expression was parsed with.
	Value(field string) Value
}

// Expr is a parsed search expression.
type Expr interface {
	// Match reports whether the record satisfies the expression.
	Match(r Record) bool
}

// maxDepth bounds nesting so that a hostile query cannot exhaust the stack.
const maxDepth = 64

// Parse parses an OData filter over the given fields.
func Parse(query string, fields Fields) (Expr, error) {
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, fields: fields}
	e, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf(t, "unexpected %q", t.text)
	}
	return e, nil
}

type parser struct {
	toks   []token
	i      int
	fields Fields
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) errorf(t token, format string, args ...any) error {
	return fmt.Errorf("%w: %s at %d", ErrInvalidSearch, fmt.Sprintf(format, args...), t.pos)
}

// keyword reports whether the next token is the given keyword (any case) and
// consumes it if so.
func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t.kind == tokIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) parseOr(depth int) (Expr, error) {
	left, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		right, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		left = orExpr{left, right}
	}
	return left, nil
}

func (p *parser) parseAnd(depth int) (Expr, error) {
	left, err := p.parseNot(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		right, err := p.parseNot(depth)
		if err != nil {
			return nil, err
		}
		left = andExpr{left, right}
	}
	return left, nil
}

func (p *parser) parseNot(depth int) (Expr, error) {
	if depth > maxDepth {
		return nil, p.errorf(p.peek(), "expression nested too deeply")
	}
	if p.keyword("not") {
		e, err := p.parseNot(depth + 1)
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	}
	return p.parsePrimary(depth)
}

// parsePrimary parses a parenthesised expression, a comparison, or a bare
// boolean field (e.g. "live").
func (p *parser) parsePrimary(depth int) (Expr, error) {
	if p.peek().kind == tokLParen {
		p.next()
		e, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tokRParen {
			return nil, p.errorf(t, "missing )")
		}
		return e, nil
	}
	start := p.peek()
	left, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	op, ok := p.comparison()
	if !ok {
		if left.field != "" && p.fields[left.field].Kind == KindBool {
			return cmpExpr{field: left.field, op: opEq, lit: Value{Kind: KindBool, Bool: true}}, nil
		}
		return nil, p.errorf(start, "expected a comparison")
	}
	right, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	return p.comparisonExpr(start, left, op, right)
}

// operand is a field name or a literal.
type operand struct {
	field string
	lit   Value
	// litTok is the literal's token kind, so that a quoted string can still
	// be read as a date when compared with a date field.
	litTok tokKind
}

func (p *parser) parseOperand() (operand, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return operand{lit: Value{Kind: KindString, Str: t.text}, litTok: tokString}, nil
	case tokDate:
		tm, err := parseDate(t.text)
		if err != nil {
			return operand{}, p.errorf(t, "bad date %q", t.text)
		}
		return operand{lit: Value{Kind: KindTime, Time: tm}, litTok: tokDate}, nil
	case tokNumber:
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return operand{}, p.errorf(t, "bad number %q", t.text)
		}
		return operand{lit: Value{Kind: KindNumber, Num: n}, litTok: tokNumber}, nil
	case tokIdent:
		switch strings.ToLower(t.text) {
		case "true", "false":
			return operand{lit: Value{Kind: KindBool, Bool: strings.EqualFold(t.text, "true")}, litTok: tokIdent}, nil
		case "null":
			return operand{lit: Value{Kind: KindNull}, litTok: tokIdent}, nil
		}
		if _, ok := p.fields[t.text]; ok {
			return operand{field: t.text}, nil
		}
		return operand{}, p.errorf(t, "unknown field %q", t.text)
	}
	return operand{}, p.errorf(t, "expected a field or a value")
}

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opGt
	opGe
	opLt
	opLe
)

var cmpOps = map[string]cmpOp{"eq": opEq, "ne": opNe, "gt": opGt, "ge": opGe, "lt": opLt, "le": opLe}

// flipped is the operator with its operands swapped ('x' lt f == f gt 'x').
var flipped = [...]cmpOp{opEq: opEq, opNe: opNe, opGt: opLt, opGe: opLe, opLt: opGt, opLe: opGe}

func (p *parser) comparison() (cmpOp, bool) {
	t := p.peek()
	if t.kind != tokIdent {
		return 0, false
	}
	op, ok := cmpOps[strings.ToLower(t.text)]
	if ok {
		p.i++
	}
	return op, ok
}

// comparisonExpr type-checks "left op right" and normalises it to
// "field op literal".
func (p *parser) comparisonExpr(at token, left operand, op cmpOp, right operand) (Expr, error) {
	switch {
	case left.field != "" && right.field == "":
	case left.field == "" && right.field != "":
		left, right, op = right, left, flipped[op]
	default:
		return nil, p.errorf(at, "a comparison needs one field and one value")
	}
	f := p.fields[left.field]
	lit := right.lit
	switch {
	case lit.Kind == KindNull:
		if op != opEq && op != opNe {
			return nil, p.errorf(at, "null only compares with eq or ne")
		}
	case f.Kind == KindTime && right.litTok == tokString:
		tm, err := parseDate(lit.Str)
		if err != nil {
			return nil, p.errorf(at, "%q is not a date", lit.Str)
		}
		lit = Value{Kind: KindTime, Time: tm}
	case f.Kind != lit.Kind:
		return nil, p.errorf(at, "%s cannot be compared with that value", left.field)
	case f.Kind == KindBool && op != opEq && op != opNe:
		return nil, p.errorf(at, "booleans only compare with eq or ne")
	}
	return cmpExpr{field: left.field, op: op, lit: lit, fold: f.Fold}, nil
}

// dateLayouts are the date forms accepted in literals besides ekm.ParseTime's;
// a form without a zone is UTC (ASSUMED, see assumed.go).
var dateLayouts = []string{"2006-01-02T15:04", "2006-01-02"}

func parseDate(s string) (time.Time, error) {
	if t, err := ekm.ParseTime(s); err == nil {
		return t.Time, nil
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q is not a date", ErrInvalidSearch, s)
}
