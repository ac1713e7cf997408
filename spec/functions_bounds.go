package spec

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// What one function call may make. A function whose result can be much larger than its
// arguments is checked before it runs, so that format("%999999999s", "") or the
// setproduct of three lists of 1,000 is an error at the call instead of gigabytes of
// memory (each took 8 s and 3 GB, or 37 s and 4.5 GB).
const (
	// maxResultBytes bounds a string a function makes: a script is kilobytes.
	maxResultBytes = 16 << 20
	// maxProduct bounds setproduct's elements: more than a plan has cells.
	maxProduct = maxCells
)

// bounded is f with check run on its arguments first; an error from check is the
// call's error. (Arguments check reads may be unknown: f deals with those.)
func bounded(f function.Function, check func(args []cty.Value) error) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        f.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if err := check(args); err != nil {
				return cty.NilVal, err
			}
			return f.Call(args)
		},
	})
}

// knownString is v's string when v is a known, non-null string.
func knownString(v cty.Value) (string, bool) {
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// knownLength is the number of elements of v when v is a known, non-null collection.
func knownLength(v cty.Value) (int, bool) {
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() || !v.CanIterateElements() {
		return 0, false
	}
	return v.LengthInt(), true
}

// tooLong is the error for a result of size bytes, when that is over maxResultBytes.
func tooLong(size float64) error {
	if size <= maxResultBytes {
		return nil
	}
	return fmt.Errorf("the result would be %.0f bytes, more than %d: a typo in a width, a count or a pattern does this", size, maxResultBytes)
}

var boundedSetProductFunc = bounded(stdlib.SetProductFunc, func(args []cty.Value) error {
	n := 1
	for _, a := range args {
		l, ok := knownLength(a)
		if !ok || l == 0 {
			return nil
		}
		if n > maxProduct/l {
			return fmt.Errorf("the product would have more than %d elements (the most cells a plan has)", maxProduct)
		}
		n *= l
	}
	return nil
})

// formatVerbs reads a format string of format or formatlist: how many verbs it has and
// the sum of the numbers in them (widths, precisions, argument indexes), which are
// what can make it long.
func formatVerbs(f string) (verbs int, widths float64) {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i+1 < len(f) && f[i+1] == '%' {
			i++
			continue
		}
		verbs++
		num := -1.0
		for i++; i < len(f) && strings.IndexByte("+- #0123456789.[]", f[i]) >= 0; i++ {
			if c := f[i]; c >= '0' && c <= '9' {
				num = max(num, 0)*10 + float64(c-'0')
				continue
			}
			widths += max(num, 0)
			num = -1
		}
		widths += max(num, 0)
	}
	return verbs, widths
}

// longestString is the length of the longest known string among args.
func longestString(args []cty.Value) int {
	n := 0
	for _, a := range args {
		if s, ok := knownString(a); ok {
			n = max(n, len(s))
		}
	}
	return n
}

var boundedFormatFunc = bounded(stdlib.FormatFunc, func(args []cty.Value) error {
	f, ok := knownString(args[0])
	if !ok {
		return nil
	}
	verbs, widths := formatVerbs(f)
	if err := tooLong(float64(len(f)) + widths + float64(verbs)*float64(longestString(args[1:]))); err != nil {
		return function.NewArgError(0, err)
	}
	return nil
})

// formatlist formats once per element of its lists, each time with its other
// arguments whole.
var boundedFormatListFunc = bounded(stdlib.FormatListFunc, func(args []cty.Value) error {
	f, ok := knownString(args[0])
	if !ok {
		return nil
	}
	n := 1
	for _, a := range args[1:] {
		if l, ok := knownLength(a); ok {
			n = max(n, l)
		}
	}
	verbs, widths := formatVerbs(f)
	if err := tooLong(float64(n) * (float64(len(f)) + widths + float64(verbs)*float64(longestString(args[1:])))); err != nil {
		return function.NewArgError(0, err)
	}
	return nil
})

var boundedIndentFunc = bounded(stdlib.IndentFunc, func(args []cty.Value) error {
	s, ok := knownString(args[1])
	n, _ := args[0].Unmark()
	if !ok || !n.IsKnown() || n.IsNull() {
		return nil
	}
	spaces, _ := n.AsBigFloat().Float64()
	if err := tooLong(float64(len(s)) + max(spaces, 0)*float64(strings.Count(s, "\n"))); err != nil {
		return function.NewArgError(0, err)
	}
	return nil
})

var boundedJoinFunc = bounded(stdlib.JoinFunc, func(args []cty.Value) error {
	sep, ok := knownString(args[0])
	if !ok {
		return nil
	}
	size, n := 0.0, 0
	for _, list := range args[1:] {
		list, _ = list.Unmark()
		if !list.IsWhollyKnown() || list.IsNull() {
			return nil
		}
		for it := list.ElementIterator(); it.Next(); {
			_, v := it.Element()
			s, _ := knownString(v)
			size += float64(len(s))
			n++
		}
	}
	return tooLong(size + float64(max(n-1, 0))*float64(len(sep)))
})

var boundedReplaceFunc = bounded(stdlib.ReplaceFunc, func(args []cty.Value) error {
	s, ok1 := knownString(args[0])
	old, ok2 := knownString(args[1])
	repl, ok3 := knownString(args[2])
	if !ok1 || !ok2 || !ok3 || len(repl) <= len(old) {
		return nil
	}
	n := strings.Count(s, old) // "" is found before each rune and at the end
	if old == "" {
		n = utf8.RuneCountInString(s) + 1
	}
	if err := tooLong(float64(len(s)) + float64(n)*float64(len(repl)-len(old))); err != nil {
		return function.NewArgError(2, err)
	}
	return nil
})

// regex_replace's replacement may repeat the match ($0, ${1}) any number of times.
var boundedRegexReplaceFunc = bounded(stdlib.RegexReplaceFunc, func(args []cty.Value) error {
	s, ok1 := knownString(args[0])
	pattern, ok2 := knownString(args[1])
	repl, ok3 := knownString(args[2])
	if !ok1 || !ok2 || !ok3 {
		return nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil || repl == "" {
		return nil // regex_replace reports a bad pattern itself
	}
	n := 0
	re.ReplaceAllStringFunc(s, func(string) string { n++; return "" }) // counts, in len(s) of memory
	refs := float64(strings.Count(repl, "$"))
	if err := tooLong(float64(len(s)) + float64(n)*float64(len(repl)) + refs*float64(len(s))); err != nil {
		return function.NewArgError(2, err)
	}
	return nil
})
