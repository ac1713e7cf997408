package spec

import (
	"bytes"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// maxNesting bounds how deeply a source may nest, as nestingScanner counts levels. HCL's
// parser, its evaluator and every walk of an expression recurse once or twice per
// level, so that 100,000 "[" exhaust the Go stack and end the process; 256 levels are
// far more than any matrix file writes, and cost the stack a few MB at most.
const maxNesting = 256

const byteOrderMark = "\xef\xbb\xbf"

// parseConfig parses a matrix file or a --var-file, once checkNesting lets it.
func parseConfig(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	if d := checkNesting(src, filename); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if body, ok := file.Body.(*hclsyntax.Body); ok && !diags.HasErrors() {
		diags = append(diags, boundBody(body)...)
	}
	return file, diags
}

// parseExpression parses the value of a --var or a MATRIX_VAR_ variable, once
// checkNesting lets it.
func parseExpression(src []byte, filename string) (hclsyntax.Expression, hcl.Diagnostics) {
	if d := checkNesting(src, filename); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	expr, diags := hclsyntax.ParseExpression(src, filename, hcl.InitialPos)
	if !diags.HasErrors() {
		diags = append(diags, boundExpr(expr)...)
	}
	return expr, diags
}

// checkNesting is the "Nesting too deep" error at the first place where src, HCL native
// syntax, nests more than maxNesting levels; nil when it nests less.
func checkNesting(src []byte, filename string) *hcl.Diagnostic {
	s := newNestingScanner(src, maxNesting)
	if s.scan() {
		if s.longNumber < 0 {
			return nil
		}
		rng := sourceRange(src, filename, s.longNumber, s.longNumberSize)
		return errorAt(&rng, "Number too long", fmt.Sprintf("This number is written with %d characters, more than %d. Reading a number takes time quadratic in its digits (a million take seconds), and a plan has no use for one beyond float64's 1e308, so this source is not parsed.", s.longNumberSize, maxNumberDigits))
	}
	rng := sourceRange(src, filename, s.at, s.size)
	return errorAt(&rng, "Nesting too deep", fmt.Sprintf("More than %d levels of nesting here. Brackets, braces and parentheses, strings and heredocs, their ${...} and %%{...} sequences and %%{ if } or %%{ for } directives count a level each where they are inside one another, and so does each operator chained in one expression (a + b + ..., !!x, a ? b : c ? ...). HCL would recurse once per level and could exhaust the stack, so this source is not parsed. Split the value into local values.", maxNesting))
}

// sourceRange is the range of the size bytes at offset in src, with HCL's line and
// column counting (columns are grapheme clusters, a byte order mark is not one).
func sourceRange(src []byte, filename string, offset, size int) hcl.Range {
	size = max(min(size, len(src)-offset), 0)
	start := hcl.InitialPos
	if bytes.HasPrefix(src, []byte(byteOrderMark)) {
		start.Byte = len(byteOrderMark)
	}
	var tokens []int
	if offset > start.Byte {
		tokens = append(tokens, offset-start.Byte)
	}
	tokens = append(tokens, size)
	sc := hcl.NewRangeScannerFragment(src[:offset+size], filename, start, func(data []byte, _ bool) (int, []byte, error) {
		if len(tokens) == 0 || len(data) == 0 {
			return 0, nil, nil
		}
		n := tokens[0]
		tokens = tokens[1:]
		return n, data[:n], nil
	})
	rng := hcl.Range{Filename: filename, Start: start, End: start}
	for sc.Scan() {
		rng = sc.Range()
	}
	if size == 0 { // at the end: an empty range after the last byte
		rng.Start = rng.End
	}
	return rng
}

// nestKind is what opened a level.
type nestKind uint8

const (
	nestRoot      nestKind = iota // the file or expression itself: newlines end expressions
	nestBrace                     // { of a block body or an object: newlines end expressions
	nestForBrace                  // { for ... }: newlines do not end expressions
	nestBracket                   // [
	nestParen                     // (
	nestTemplate                  // " or a heredoc
	nestSequence                  // ${ or %{
	nestDirective                 // between %{ if } or %{ for } and its end
)

// nestLevel is one open level.
type nestLevel struct {
	kind nestKind
	// depth is the level's depth: its enclosing level's, plus the operators chained
	// before it there, plus one.
	depth int
	// chain counts the operators of the expression being read at this level; a comma,
	// or a newline where newlines end expressions, starts the next expression.
	chain int
}

// lexMode is what HCL's scanner reads: expressions, a quoted string or a heredoc.
type lexMode uint8

const (
	lexMain lexMode = iota
	lexQuoted
	lexHeredoc
)

// lexFrame is one entry of HCL's scanner's call stack: a template calls the expression
// mode for ${ and %{, which returns at the matching }.
type lexFrame struct {
	mode lexMode
	// levels is len(nestingScanner.levels) when the frame was entered: leaving it
	// closes the levels opened inside it, as HCL's scanner leaves them.
	levels int
	// marker and startOfLine are a heredoc's closing marker and whether the scanner
	// is at the start of one of its lines.
	marker      []byte
	startOfLine bool
}

// nestingScanner counts how deeply HCL source nests, in one pass over its bytes and
// without recursion, so that it cannot be knocked over by what it guards against. It
// follows HCL's own scanner (hclsyntax/scan_tokens.rl) for what is a string, a
// heredoc, a comment or a template sequence, so that brackets are counted where HCL
// sees them (TestNestingScannerFollowsHCL checks it against HCL's tokens). Levels are
// counted generously: over-counting costs a refusal of an absurd file, under-counting
// a crash.
type nestingScanner struct {
	src       []byte
	limit     int
	root      nestLevel
	levels    []nestLevel
	frames    []lexFrame
	braces    int   // HCL's scanner's count of open braces
	retBraces []int // the brace counts at which a } ends a template sequence
	operand   bool  // the last token ends an operand: a [ after it indexes
	lastClose int   // the offset of the last "*/", -1: none
	maxDepth  int
	// at and size are where scan stopped at a level deeper than limit.
	at, size int
	// longNumber and longNumberSize are the first number literal longer than
	// maxNumberDigits; -1: none.
	longNumber, longNumberSize int
	// token, when set, is told each token that opens or closes something.
	token func(ty hclsyntax.TokenType, start, end int)
}

func newNestingScanner(src []byte, limit int) *nestingScanner {
	return &nestingScanner{
		src:        src,
		limit:      limit,
		frames:     []lexFrame{{mode: lexMain}},
		lastClose:  bytes.LastIndex(src, []byte("*/")),
		at:         -1,
		longNumber: -1,
	}
}

// scan reads the whole source; false when a level is deeper than the limit (at, size).
func (s *nestingScanner) scan() bool {
	i := 0
	if bytes.HasPrefix(s.src, []byte(byteOrderMark)) {
		i = len(byteOrderMark) // as HCL's scanner does
	}
	for i >= 0 && i < len(s.src) {
		switch s.frames[len(s.frames)-1].mode {
		case lexMain:
			i = s.main(i)
		case lexQuoted:
			i = s.quoted(i)
		case lexHeredoc:
			i = s.heredoc(i)
		}
	}
	return s.at < 0
}

// stop ends the scan at a level deeper than the limit; scan's loop ends at -1.
func (s *nestingScanner) stop(at, size int) int {
	s.at, s.size = at, size
	return -1
}

func (s *nestingScanner) emit(ty hclsyntax.TokenType, start, end int) {
	if s.token != nil {
		s.token(ty, start, end)
	}
}

func (s *nestingScanner) top() *nestLevel {
	if len(s.levels) == 0 {
		return &s.root
	}
	return &s.levels[len(s.levels)-1]
}

// push opens a level of kind at the size bytes at offset; false when it is too deep.
func (s *nestingScanner) push(kind nestKind, at, size int) bool {
	t := s.top()
	d := t.depth + t.chain + 1
	if d > s.limit {
		s.stop(at, size)
		return false
	}
	s.levels = append(s.levels, nestLevel{kind: kind, depth: d})
	s.maxDepth = max(s.maxDepth, d)
	return true
}

// pop closes the innermost level if it is of kind (a stray closer closes nothing).
func (s *nestingScanner) pop(kinds ...nestKind) {
	frame := s.frames[len(s.frames)-1]
	if len(s.levels) > frame.levels {
		for _, k := range kinds {
			if s.levels[len(s.levels)-1].kind == k {
				s.levels = s.levels[:len(s.levels)-1]
				return
			}
		}
	}
}

// operator counts an operator of the current expression; false when it is too deep.
func (s *nestingScanner) operator(at, size int) bool {
	t := s.top()
	t.chain++
	d := t.depth + t.chain
	if d > s.limit {
		s.stop(at, size)
		return false
	}
	s.maxDepth = max(s.maxDepth, d)
	s.operand = false
	return true
}

// newline ends the current expression where newlines do.
func (s *nestingScanner) newline() {
	if t := s.top(); t.kind == nestRoot || t.kind == nestBrace {
		t.chain = 0
	}
	s.operand = false
}

// enter calls mode, as HCL's scanner does for a template or a template sequence.
func (s *nestingScanner) enter(mode lexMode, marker []byte) {
	s.frames = append(s.frames, lexFrame{mode: mode, levels: len(s.levels), marker: marker, startOfLine: mode == lexHeredoc})
}

// leave returns from the current mode, closing the levels opened in it.
func (s *nestingScanner) leave() {
	s.levels = s.levels[:s.frames[len(s.frames)-1].levels]
	s.frames = s.frames[:len(s.frames)-1]
}

// main reads one token in expression mode at i and returns where the next starts.
func (s *nestingScanner) main(i int) int {
	src := s.src
	c := src[i]
	next := byte(0)
	if i+1 < len(src) {
		next = src[i+1]
	}
	switch {
	case c == ' ' || c == '\t':
		return i + 1
	case c == '\n':
		s.newline()
		return i + 1
	case c == '\r' && next == '\n':
		s.newline()
		return i + 2
	case c == '#' || c == '/' && next == '/':
		return s.lineComment(i)
	case c == '/' && next == '*':
		if end := s.blockCommentEnd(i); end > 0 {
			return end
		}
		return s.op(i, 1)
	case isIdentStart(c):
		s.operand = true
		return identEnd(src, i)
	case c >= '0' && c <= '9':
		s.operand = true
		end := numberEnd(src, i)
		if end-i > maxNumberDigits && s.longNumber < 0 {
			s.longNumber, s.longNumberSize = i, end-i
		}
		return end
	case c == '"':
		s.enter(lexQuoted, nil)
		return s.open(nestTemplate, hclsyntax.TokenOQuote, i, 1)
	case c == '<' && next == '<':
		if end, marker := heredocIntroducer(src, i); end > 0 {
			s.enter(lexHeredoc, marker)
			return s.open(nestTemplate, hclsyntax.TokenOHeredoc, i, end-i)
		}
		return s.op(i, 1)
	case c == '{':
		s.braces++
		kind := nestBrace
		if w := s.wordAfter(i + 1); isKeyword(w, "for") {
			kind = nestForBrace // for expressions ignore newlines, object constructors do not
		}
		return s.open(kind, hclsyntax.TokenOBrace, i, 1)
	case c == '}' || c == '~' && next == '}':
		return s.closeBrace(i)
	case c == '[':
		if s.operand && !s.operator(i, 1) { // an index: a level of its own in the expression
			return -1
		}
		return s.open(nestBracket, hclsyntax.TokenOBrack, i, 1)
	case c == '(':
		return s.open(nestParen, hclsyntax.TokenOParen, i, 1)
	case c == ']':
		return s.close(nestBracket, hclsyntax.TokenCBrack, i)
	case c == ')':
		return s.close(nestParen, hclsyntax.TokenCParen, i)
	case c == ',':
		s.top().chain = 0
		s.operand = false
		return i + 1
	case c == '=':
		s.operand = false
		switch next {
		case '=':
			return s.op(i, 2)
		case '>':
			return i + 2
		}
		return i + 1
	case c == '!' || c == '<' || c == '>':
		if next == '=' {
			return s.op(i, 2)
		}
		return s.op(i, 1)
	case c == '&' || c == '|':
		if next == c {
			return s.op(i, 2)
		}
		return s.op(i, 1)
	case c == '+' || c == '-' || c == '*' || c == '/' || c == '%' || c == '?':
		return s.op(i, 1)
	case c == '.':
		return i + 1
	}
	s.operand = false
	return i + 1
}

// open reads the token ty of size bytes at i that opens a level of kind, and returns
// where the next token starts.
func (s *nestingScanner) open(kind nestKind, ty hclsyntax.TokenType, i, size int) int {
	s.emit(ty, i, i+size)
	s.operand = false
	if !s.push(kind, i, size) {
		return -1
	}
	return i + size
}

// close reads the one-byte token ty at i that closes a level of kind.
func (s *nestingScanner) close(kind nestKind, ty hclsyntax.TokenType, i int) int {
	s.emit(ty, i, i+1)
	s.pop(kind)
	s.operand = true
	return i + 1
}

// op counts the operator of size bytes at i and returns where the next token starts.
func (s *nestingScanner) op(i, size int) int {
	if !s.operator(i, size) {
		return -1
	}
	return i + size
}

// closeBrace reads "}" or "~}" at i: the end of a template sequence when its brace
// count says so (HCL's scanner then returns to the template), else of a brace.
func (s *nestingScanner) closeBrace(i int) int {
	end := i + 1
	if s.src[i] == '~' {
		end++
	}
	if n := len(s.retBraces); n > 0 && s.retBraces[n-1] == s.braces && len(s.frames) > 1 {
		s.emit(hclsyntax.TokenTemplateSeqEnd, i, end)
		s.braces--
		s.retBraces = s.retBraces[:n-1]
		s.leave()
		return end
	}
	s.braces--
	if end-i == 2 { // HCL's scanner calls a stray ~} the end of a sequence
		s.emit(hclsyntax.TokenTemplateSeqEnd, i, end)
	} else {
		s.emit(hclsyntax.TokenCBrace, i, end)
	}
	s.pop(nestBrace, nestForBrace)
	s.operand = true
	return end
}

// lineComment skips a # or // comment at i with the newline that ends it, which counts
// as a newline as it does for HCL's parser.
func (s *nestingScanner) lineComment(i int) int {
	nl := bytes.IndexByte(s.src[i:], '\n')
	if nl < 0 {
		return len(s.src)
	}
	s.newline()
	return i + nl + 1
}

// blockCommentEnd is where the /* comment at i ends; 0 when it has no end (then, for
// HCL, "/" is an operator).
func (s *nestingScanner) blockCommentEnd(i int) int {
	if s.lastClose < i+2 {
		return 0
	}
	return i + 2 + bytes.Index(s.src[i+2:], []byte("*/")) + 2
}

// wordAfter is the identifier-like word after i, past spaces, newlines and comments,
// which HCL's parser skips where it looks for the "for" of { for ... } or a
// directive's keyword.
func (s *nestingScanner) wordAfter(i int) []byte {
	src := s.src
	for i < len(src) {
		switch c := src[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '#' || c == '/' && i+1 < len(src) && src[i+1] == '/':
			nl := bytes.IndexByte(src[i:], '\n')
			if nl < 0 {
				return nil
			}
			i += nl + 1
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := s.blockCommentEnd(i)
			if end == 0 {
				return nil
			}
			i = end
		case isIdentStart(c):
			return src[i:identEnd(src, i)]
		default:
			return nil
		}
	}
	return nil
}

// isKeyword reports whether word may be HCL's keyword kw: exactly, or followed by a
// non-ASCII character, which may end the identifier (the scanner decides by Unicode
// classes; counting a level too many is the safe guess).
func isKeyword(word []byte, kw string) bool {
	return bytes.HasPrefix(word, []byte(kw)) && (len(word) == len(kw) || word[len(kw)] >= 0x80)
}

// quoted reads one token of a quoted string at i.
func (s *nestingScanner) quoted(i int) int {
	src := s.src
	switch c := src[i]; c {
	case '"':
		s.emit(hclsyntax.TokenCQuote, i, i+1)
		s.leave()
		s.operand = true
		return i + 1
	case '\\':
		if i+1 < len(src) && src[i+1] != '\r' && src[i+1] != '\n' {
			return i + 2 // an escape: \" and \$ are literal
		}
		return i + 1
	case '$', '%':
		return s.templateSign(i)
	}
	return i + 1
}

// templateSign reads a $ or % at i in a template: the start of a sequence, an
// escaped one ($${, %%{) or a literal sign.
func (s *nestingScanner) templateSign(i int) int {
	src := s.src
	c := src[i]
	switch {
	case i+1 < len(src) && src[i+1] == '{':
		return s.sequence(i, c == '%')
	case i+2 < len(src) && src[i+1] == c && src[i+2] == '{':
		return i + 3
	}
	return i + 1
}

// sequence enters the ${ or %{ (control) at i: a level, and for %{ if } or %{ for }
// a level more until its end directive.
func (s *nestingScanner) sequence(i int, control bool) int {
	src := s.src
	end := i + 2
	if end < len(src) && src[end] == '~' {
		end++
	}
	ty := hclsyntax.TokenTemplateInterp
	if control {
		ty = hclsyntax.TokenTemplateControl
	}
	s.emit(ty, i, end)
	s.braces++
	s.retBraces = append(s.retBraces, s.braces)
	for f := len(s.frames) - 1; f >= 0; f-- {
		if s.frames[f].mode == lexHeredoc {
			s.frames[f].startOfLine = false
			break
		}
	}
	if control {
		switch w := s.wordAfter(end); {
		case isKeyword(w, "if"), isKeyword(w, "for"):
			if !s.push(nestDirective, i, end-i) {
				return -1
			}
		case string(w) == "endif", string(w) == "endfor":
			s.pop(nestDirective)
		}
	}
	s.enter(lexMain, nil)
	s.operand = false
	if !s.push(nestSequence, i, end-i) {
		return -1
	}
	return end
}

// heredoc reads one token of a heredoc at i.
func (s *nestingScanner) heredoc(i int) int {
	src := s.src
	frame := &s.frames[len(s.frames)-1]
	if frame.startOfLine {
		// A line that is the marker alone (spaces aside) ends the heredoc; bytes that are
		// not UTF-8 at its start do not count, as for HCL's scanner.
		j := i
		for j < len(src) && src[j] >= 0x80 && utf8Len(src[j:]) == 0 {
			j++
		}
		k := j
		for k < len(src) && src[k] != '$' && src[k] != '%' && src[k] != '\r' && src[k] != '\n' {
			n := 1
			if src[k] >= 0x80 {
				if n = utf8Len(src[k:]); n == 0 {
					break
				}
			}
			k += n
		}
		eol := 0
		switch {
		case k < len(src) && src[k] == '\n':
			eol = k + 1
		case k+1 < len(src) && src[k] == '\r' && src[k+1] == '\n':
			eol = k + 2
		}
		if eol > 0 {
			if bytes.Equal(bytes.TrimSpace(src[j:eol]), frame.marker) {
				s.emit(hclsyntax.TokenCHeredoc, j, k)
				s.leave()
				s.operand = true
				return k // the newline is the main mode's
			}
			return eol
		}
		i = j
		if i == len(src) {
			return i
		}
	}
	switch c := src[i]; c {
	case '\n':
		frame.startOfLine = true
		return i + 1
	case '\r':
		if i+1 < len(src) && src[i+1] == '\n' {
			frame.startOfLine = true
			return i + 2
		}
		return len(src) // HCL's scanner stops here: nothing after it is parsed
	case '$', '%':
		frame.startOfLine = false
		if i+1 == len(src) {
			return len(src)
		}
		return s.templateSign(i)
	}
	frame.startOfLine = false
	return i + 1
}

// heredocIntroducer reads "<<EOT" or "<<-EOT" and its newline at i: where it ends and
// its marker; 0 when there is none (then "<" is an operator).
func heredocIntroducer(src []byte, i int) (int, []byte) {
	j := i + 2
	if j < len(src) && src[j] == '-' {
		j++
	}
	if j == len(src) || !isIdentStart(src[j]) {
		return 0, nil
	}
	k := identEnd(src, j)
	end := 0
	switch {
	case k < len(src) && src[k] == '\n':
		end = k + 1
	case k+1 < len(src) && src[k] == '\r' && src[k+1] == '\n':
		end = k + 2
	}
	if end == 0 || !hclsyntax.ValidIdentifier(string(src[j:k])) {
		return 0, nil
	}
	return end, src[j:k]
}

// isIdentStart: c may start an identifier (a non-ASCII byte may: identEnd asks HCL).
func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isASCIIIdent(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// identEnd is where the identifier at i ends, or the one character at i that starts
// none. UTF-8 is read here, and a character that may continue an identifier does;
// where the bytes are not UTF-8, HCL's scanner reads the identifier, with what follows
// it (hclRunEnd): its Unicode tables take such bytes for letters with the byte after
// them, whatever it is, so that to it "\xc4\"" is one letter, and that quote opens no
// string. (Which valid characters HCL counts as letters changes no bracket or quote.)
func identEnd(src []byte, i int) int {
	j := i
	for j < len(src) {
		if isASCIIIdent(src[j]) {
			j++
			continue
		}
		if src[j] < 0x80 {
			break
		}
		r, size := utf8.DecodeRune(src[j:])
		if r == utf8.RuneError && size == 1 {
			return hclRunEnd(src, i)
		}
		if !isIdentRune(r) {
			if j == i {
				return i + size // a character of its own
			}
			break
		}
		j += size
	}
	return j
}

// isIdentRune approximates Unicode's ID_Continue, which HCL's identifiers use.
func isIdentRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nl, unicode.Pc, unicode.Other_ID_Start, unicode.Other_ID_Continue)
}

// hclRunEnd is where the run of identifiers and invalid characters at i (with the
// spaces between them) ends, as HCL's scanner reads them. It scans a window of the
// source that doubles until the run ends well inside it, so that a run costs its
// length about twice, however long (a file of non-ASCII bytes is one run).
func hclRunEnd(src []byte, i int) int {
	for w := 64; ; w *= 2 {
		end := min(len(src), i+w)
		// A leading space keeps the scanner from taking the window's first bytes for a
		// byte order mark; offsets in it are one more than in src[i:].
		window := append([]byte{' '}, src[i:end]...)
		tokens, _ := hclsyntax.LexExpression(window, "", hcl.InitialPos)
		run, complete := i, true
		for _, tok := range tokens {
			start, stop := i+tok.Range.Start.Byte-1, i+tok.Range.End.Byte-1
			if start < run || len(bytes.Trim(src[run:start], " \t")) > 0 {
				break // not next to the run
			}
			if tok.Type != hclsyntax.TokenIdent && tok.Type != hclsyntax.TokenInvalid && tok.Type != hclsyntax.TokenBadUTF8 {
				break
			}
			if end < len(src) && stop > end-8 { // the window's end may have cut it
				complete = false
				break
			}
			run = stop
		}
		if complete {
			return max(run, i+1)
		}
	}
}

// numberEnd is where the number at i ends, as HCL's scanner reads numbers: digits, a
// '.' between digits, an exponent with its sign and digits.
func numberEnd(src []byte, i int) int {
	digit := func(j int) bool { return j < len(src) && src[j] >= '0' && src[j] <= '9' }
	for digit(i) {
		i++
	}
	if i < len(src) && src[i] == '.' && digit(i+1) {
		for i++; digit(i); i++ {
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if digit(j) {
			for i = j; digit(i); i++ {
			}
		}
	}
	return i
}

// utf8Len is the length of the UTF-8 sequence at the start of b as HCL's scanner
// reads UTF-8 (lead and continuation bytes only, scan_tokens.rl's AnyUTF8); 0 when b
// does not start with one.
func utf8Len(b []byte) int {
	n := 0
	switch c := b[0]; {
	case c < 0x80:
		return 1
	case c >= 0xC0 && c <= 0xDF:
		n = 2
	case c >= 0xE0 && c <= 0xEF:
		n = 3
	case c >= 0xF0 && c <= 0xF7:
		n = 4
	default:
		return 0
	}
	if len(b) < n {
		return 0
	}
	for _, c := range b[1:n] {
		if c < 0x80 || c > 0xBF {
			return 0
		}
	}
	return n
}
