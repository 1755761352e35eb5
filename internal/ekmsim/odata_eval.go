package ekmsim

import "strings"

// Evaluation of parsed OData expressions (see odata.go) against records.

type orExpr struct{ l, r Expr }
type andExpr struct{ l, r Expr }
type notExpr struct{ e Expr }
type cmpExpr struct {
	field string
	op    cmpOp
	lit   Value
	fold  bool
}

// Match reports whether either side matches.
func (e orExpr) Match(r Record) bool { return e.l.Match(r) || e.r.Match(r) }

// Match reports whether both sides match.
func (e andExpr) Match(r Record) bool { return e.l.Match(r) && e.r.Match(r) }

// Match reports whether the operand does not match.
func (e notExpr) Match(r Record) bool { return !e.e.Match(r) }

// Match compares the record's field with the literal. Null is only equal to
// null (and, for strings, the model's empty string stands for null); any
// ordering comparison with null is false, as in SQL.
func (e cmpExpr) Match(r Record) bool {
	v := r.Value(e.field)
	if v.Kind == KindString && v.Str == "" {
		v = Value{Kind: KindNull}
	}
	lit := e.lit
	if lit.Kind == KindString && lit.Str == "" {
		lit = Value{Kind: KindNull}
	}
	if v.Kind == KindNull || lit.Kind == KindNull {
		same := v.Kind == lit.Kind
		switch e.op {
		case opEq:
			return same
		case opNe:
			return !same
		}
		return false
	}
	c := compareValues(v, lit, e.fold)
	switch e.op {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opGt:
		return c > 0
	case opGe:
		return c >= 0
	case opLt:
		return c < 0
	default:
		return c <= 0
	}
}

// compareValues orders two values; nulls sort first, then by kind, so the
// order is total and sorting with it is stable.
func compareValues(a, b Value, fold bool) int {
	if a.Kind != b.Kind {
		return int(a.Kind) - int(b.Kind)
	}
	switch a.Kind {
	case KindString:
		if fold {
			return strings.Compare(strings.ToUpper(a.Str), strings.ToUpper(b.Str))
		}
		return strings.Compare(a.Str, b.Str)
	case KindNumber:
		switch {
		case a.Num < b.Num:
			return -1
		case a.Num > b.Num:
			return 1
		}
	case KindBool:
		switch {
		case !a.Bool && b.Bool:
			return -1
		case a.Bool && !b.Bool:
			return 1
		}
	case KindTime:
		return a.Time.Compare(b.Time)
	}
	return 0
}
