package cli

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/logging"
)

// operatorMessage is err as the operator reads it: a PostgreSQL or driver error
// inside it is replaced by words that say what happened and what to do, and the raw
// error goes to the debug log (EKMSYNC_LOG_LEVEL=debug) only. The text around it
// (which command, which channel) is kept.
func operatorMessage(err error, stderr io.Writer) string {
	msg := err.Error()
	raw, words := dbError(err)
	if raw == "" {
		return msg
	}
	debugLog(stderr).Debug("database error", "error", msg)
	if i := strings.Index(msg, raw); i >= 0 {
		return msg[:i] + words + msg[i+len(raw):]
	}
	return words
}

// dbError finds a PostgreSQL or driver error in err: its own text, and words for
// the operator; "" when there is none.
func dbError(err error) (raw, words string) {
	var pgErr *pgconn.PgError
	var connErr *pgconn.ConnectError
	switch {
	case errors.As(err, &pgErr):
		return pgErr.Error(), sqlstateWords(pgErr)
	case errors.As(err, &connErr):
		return connErr.Error(), "could not connect to PostgreSQL"
	case errors.Is(err, pgx.ErrNoRows):
		return pgx.ErrNoRows.Error(), "not found"
	case errors.Is(err, pgx.ErrTxClosed), pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return rootText(err), "the connection to PostgreSQL failed: try again (EKMSYNC_LOG_LEVEL=debug shows the detail)"
	}
	return "", ""
}

// sqlstateWords explains a PostgreSQL error by its SQLSTATE class.
func sqlstateWords(e *pgconn.PgError) string {
	switch {
	case e.Code == "23505":
		return "it already exists (a row with the same key is in the hub)"
	case e.Code == "23503":
		return "it refers to a row that is not in the hub (for stock and prices, the SKU's stock item), or is still referred to"
	case e.Code == "23502", e.Code == "23514", e.Code == "23P01":
		return "a value is outside what the hub accepts" + constraint(e) + ": check the arguments against '--help'"
	case e.Code == "22003":
		return "a number is out of the range the hub can store: use a smaller one"
	case e.Code == "22021", e.Code == "22P05":
		return "a text holds a character the hub cannot store (NUL or invalid UTF-8): remove it"
	case e.Code == "22001":
		return "a text is longer than the hub can store: shorten it"
	case strings.HasPrefix(e.Code, "22"):
		return "a value cannot be stored in the hub (malformed or out of range): check the arguments against '--help'"
	case strings.HasPrefix(e.Code, "23"):
		return "the change conflicts with the hub's rules" + constraint(e)
	case e.Code == "40001", e.Code == "40P01", e.Code == "55P03":
		return "a concurrent change got in the way: run the command again"
	case e.Code == "42501":
		return "the database user of EKMSYNC_DATABASE_URL may not do this: use the user that owns ekmsync's tables"
	case e.Code == "42P01", e.Code == "42703", e.Code == "42883":
		return "the hub's schema is older than this starter: run 'starter migrate'"
	case e.Code == "3D000":
		return "the database does not exist: create it with 'starter migrate'"
	case strings.HasPrefix(e.Code, "28"):
		return "PostgreSQL refused the login: check the user and password in EKMSYNC_DATABASE_URL"
	case strings.HasPrefix(e.Code, "08"), strings.HasPrefix(e.Code, "53"), strings.HasPrefix(e.Code, "57"):
		return "PostgreSQL is unavailable or overloaded right now: try again shortly"
	}
	return "PostgreSQL refused the operation (EKMSYNC_LOG_LEVEL=debug shows the detail)"
}

// constraint names the violated constraint, which says which value was wrong,
// when it is one of ours (a readable name, not a raw value).
func constraint(e *pgconn.PgError) string {
	if e.ConstraintName == "" {
		if e.ColumnName != "" {
			return " (" + e.ColumnName + ")"
		}
		return ""
	}
	return " (" + e.ConstraintName + ")"
}

// rootText is the text of the innermost error of err.
func rootText(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// debugLog writes to stderr when EKMSYNC_LOG_LEVEL is debug, and nowhere otherwise.
func debugLog(stderr io.Writer) *slog.Logger {
	if !strings.EqualFold(strings.TrimSpace(os.Getenv("EKMSYNC_LOG_LEVEL")), "debug") {
		return slog.New(slog.DiscardHandler)
	}
	var format config.LogFormat
	_ = format.Decode(os.Getenv("EKMSYNC_LOG_FORMAT"))
	return logging.NewLogger(stderr, format.JSON(), slog.LevelDebug)
}

// checkArg refuses a text argument the hub cannot store or that is not sensible:
// empty, longer than n bytes, invalid UTF-8 or with control characters (PostgreSQL
// text cannot hold NUL). It names the argument.
func checkArg(name, v string, n int) error {
	switch {
	case strings.TrimSpace(v) == "":
		return usagef("%s is empty", name)
	case len(v) > n:
		return usagef("%s is %d bytes long: at most %d", name, len(v), n)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
		return usagef("%s %q holds a control character or invalid UTF-8", name, shortArg(v))
	}
	return nil
}

func shortArg(v string) string {
	if len(v) <= 60 {
		return v
	}
	return strings.ToValidUTF8(v[:60], "") + "..."
}

// checkStockArgs checks the SKU and location of 'stock set' and 'price set'.
func checkStockArgs(sku, location string) error {
	if err := checkArg("SKU", sku, 255); err != nil {
		return err
	}
	return checkArg("--location", location, 255)
}
