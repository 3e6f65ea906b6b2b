package importer

import (
	"errors"
	"fmt"
	"strings"
)

// Policy says what an import does with a field of a record that already
// exists (R4.2). An empty cell never changes anything, whatever the policy.
type Policy string

const (
	// FillEmpty writes the file's value only where the record has none; the
	// default, so that an import never overwrites what staff typed.
	FillEmpty Policy = "fill-empty"
	// Overwrite writes the file's value whenever the file has one.
	Overwrite Policy = "overwrite"
	// Keep never changes the field of an existing record (new records still
	// get the file's value).
	Keep Policy = "keep"
)

// Policies holds one policy per field; fields not named get the default.
type Policies struct {
	Default Policy
	Fields  map[string]Policy
}

// For returns the policy of a field.
func (p Policies) For(field string) Policy {
	if v, ok := p.Fields[field]; ok {
		return v
	}
	if p.Default != "" {
		return p.Default
	}
	return FillEmpty
}

// ParsePolicies reads a --policy value: "field=policy,…", where field is a
// field of spec or "*" for the default, e.g. "phone=overwrite,*=keep".
func ParsePolicies(spec Spec, s string) (Policies, error) {
	p := Policies{Default: FillEmpty, Fields: map[string]Policy{}}
	var problems []error
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !ok {
			problems = append(problems, fmt.Errorf("policy %q: want field=overwrite|fill-empty|keep", part))
			continue
		}
		pol := Policy(strings.ToLower(val))
		if pol != FillEmpty && pol != Overwrite && pol != Keep {
			problems = append(problems, fmt.Errorf("policy %q: %q is not overwrite, fill-empty or keep", part, val))
			continue
		}
		if name == "*" {
			p.Default = pol
			continue
		}
		if _, ok := spec.Field(name); !ok {
			problems = append(problems, fmt.Errorf("policy %q: %s has no field %q (fields: %s)", part, spec.Kind, name, strings.Join(spec.FieldNames(), ", ")))
			continue
		}
		p.Fields[name] = pol
	}
	return p, errors.Join(problems...)
}

// Merge states the rule of a policy for one field in Go: old is the stored
// value, nw the file's; empty means "none". The import applies the same rule
// set-wise in SQL (column.mergeExprs); TestMerge pins the rule and
// TestMergeByEmail checks the SQL against it, policy by policy.
func Merge(p Policy, old, nw string) string {
	if nw == "" {
		return old
	}
	switch p {
	case Overwrite:
		return nw
	case Keep:
		return old
	default:
		if old == "" {
			return nw
		}
		return old
	}
}
