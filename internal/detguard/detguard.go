// Package detguard statically enforces guardsim's determinism rules on the
// simulated packages.
//
// Simulated code runs on one goroutine against a virtual clock and seeded
// random streams, and iterates maps only in sorted-key order. CheckDirs
// parses and type-checks the non-test Go files of package directories and
// reports every construct that would break that: go statements, channels,
// package sync and sync/atomic, wall-clock time, math/rand and crypto/rand
// imports, the global source of math/rand/v2, ranging over a map outside a
// function named SortedKeys or AppendSortedKeys, and the map-order
// iterators of package maps.
//
// A file of a checked package that runs outside the simulation (an
// exploration driver timing itself on the wall clock) says so with a line
// comment before its package clause:
//
//	//detguard:outside-simulation <why>
//
// and is skipped; OutsideSimulation lists such files so a test can pin them.
package detguard

import (
	"bufio"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Rule names, as reported in Violation.Rule.
const (
	ruleGo         = "go-stmt"     // go statements
	ruleChan       = "chan"        // channel types, sends, receives, select, range over a channel
	ruleSync       = "sync"        // any use of sync or sync/atomic
	ruleWallClock  = "wall-clock"  // time.Now, time.Sleep, timers, ...
	ruleRandImport = "rand-import" // importing math/rand or crypto/rand
	ruleGlobalRand = "global-rand" // math/rand/v2 functions using the global source
	ruleMapRange   = "map-range"   // range over a map outside SortedKeys
	ruleMapsIter   = "maps-iter"   // map-order functions of package maps
)

// outsideDirective marks a file that runs outside the simulation.
const outsideDirective = "//detguard:outside-simulation"

// outside reports whether the file carries outsideDirective before its
// package clause.
func outside(f *ast.File) bool {
	for _, g := range f.Comments {
		if g.Pos() > f.Package {
			break
		}
		for _, c := range g.List {
			if strings.HasPrefix(c.Text, outsideDirective+" ") {
				return true
			}
		}
	}
	return false
}

// OutsideSimulation lists the non-test Go files of dir that carry the
// outside-simulation directive, by base name, sorted.
func OutsideSimulation(dir string) ([]string, error) {
	fset := token.NewFileSet()
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, m, nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			return nil, err
		}
		if outside(f) {
			out = append(out, filepath.Base(m))
		}
	}
	return out, nil
}

// sortedKeysFuncs name the only functions allowed to range over a map:
// they sort what they collect.
var sortedKeysFuncs = set("SortedKeys", "AppendSortedKeys")

var (
	wallClockFuncs  = set("Now", "Since", "Until", "Sleep", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick")
	seededRandFuncs = set("New", "NewPCG", "NewChaCha8", "NewZipf")
	orderFreeMaps   = set("Clone", "Copy", "Equal", "EqualFunc", "DeleteFunc")
	forbiddenRand   = set("math/rand", "crypto/rand")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Violation is one forbidden construct, with its position.
type Violation struct {
	File   string
	Line   int
	Rule   string
	Detail string
}

// String formats v as "file:line: rule: detail".
func (v Violation) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", v.File, v.Line, v.Rule, v.Detail)
}

// CheckDirs type-checks and inspects the non-test Go files of each
// directory (a package directory) and returns the violations, sorted by
// file and line. Files excluded by build constraints are skipped.
//
// Imports under the enclosing module's path (found from the nearest go.mod)
// are loaded from source inside the module; all others go through the
// go/importer source importer. A directory without Go files, a file that
// does not parse, an unresolvable import or any type error makes the error
// non-nil; the violations found in the packages that could be inspected are
// returned alongside it.
func CheckDirs(dirs ...string) ([]Violation, error) {
	c := &checker{
		fset: token.NewFileSet(),
		pkgs: make(map[string]*loadedPkg),
		mods: make(map[string]module),
	}
	c.std = importer.ForCompiler(c.fset, "source", nil).(types.ImporterFrom)

	var vs []Violation
	var errs []error
	for _, dir := range dirs {
		p, err := c.load(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p.files != nil {
			vs = append(vs, c.inspect(p, dir)...)
		}
	}
	// Report the load errors of every package, including imported ones,
	// once each and in a stable order.
	for _, abs := range slices.Sorted(maps.Keys(c.pkgs)) {
		if err := c.pkgs[abs].err; err != nil {
			errs = append(errs, err)
		}
	}

	slices.SortFunc(vs, cmpViolations)
	return slices.Compact(vs), errors.Join(errs...)
}

func cmpViolations(a, b Violation) int {
	if c := strings.Compare(a.File, b.File); c != 0 {
		return c
	}
	if a.Line != b.Line {
		return a.Line - b.Line
	}
	if c := strings.Compare(a.Rule, b.Rule); c != 0 {
		return c
	}
	return strings.Compare(a.Detail, b.Detail)
}

type loadedPkg struct {
	done  bool // false while the package is being loaded (import cycle guard)
	pkg   *types.Package
	files []*ast.File
	info  *types.Info
	err   error // parse, import or type errors
}

type module struct{ root, path string }

type checker struct {
	fset *token.FileSet
	std  types.ImporterFrom
	pkgs map[string]*loadedPkg // by absolute directory
	mods map[string]module     // enclosing module by absolute directory
}

// load parses and type-checks the package in dir, once. The returned error
// is about dir itself (unreadable, no Go files); parse and type errors are
// kept in the loadedPkg.
func (c *checker) load(dir string) (*loadedPkg, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if p, ok := c.pkgs[abs]; ok {
		return p, nil
	}
	names, err := goFiles(abs)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no non-test Go files", dir)
	}
	p := &loadedPkg{}
	c.pkgs[abs] = p
	defer func() { p.done = true }()

	var files []*ast.File
	for _, name := range names {
		f, err := parser.ParseFile(c.fset, filepath.Join(abs, name), nil, parser.SkipObjectResolution|parser.ParseComments)
		if err != nil {
			p.err = err
			return p, nil
		}
		files = append(files, f)
	}

	path, err := c.importPath(abs)
	if err != nil {
		p.err = err
		return p, nil
	}
	var typeErrs []error
	conf := types.Config{
		Importer: c,
		Error: func(err error) {
			if len(typeErrs) < 10 {
				typeErrs = append(typeErrs, err)
			}
		},
	}
	p.files = files
	p.info = &types.Info{
		Types: make(map[ast.Expr]types.TypeAndValue),
		Uses:  make(map[*ast.Ident]types.Object),
	}
	p.pkg, _ = conf.Check(path, c.fset, files, p.info) // errors go to conf.Error
	if len(typeErrs) > 0 {
		p.err = fmt.Errorf("type-checking %s: %w", path, errors.Join(typeErrs...))
	}
	return p, nil
}

// goFiles lists the non-test Go files of dir that match the build context.
func goFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if ok, err := build.Default.MatchFile(dir, name); err != nil {
			return nil, err
		} else if ok {
			names = append(names, name)
		}
	}
	return names, nil
}

// Import implements types.Importer.
func (c *checker) Import(path string) (*types.Package, error) {
	return c.ImportFrom(path, "", 0)
}

// ImportFrom implements types.ImporterFrom: packages of the module that
// encloses srcDir are loaded from source, everything else is delegated to
// the standard source importer.
func (c *checker) ImportFrom(path, srcDir string, mode types.ImportMode) (*types.Package, error) {
	mod, err := c.module(srcDir)
	if err != nil {
		return nil, err
	}
	rel, ok := strings.CutPrefix(path, mod.path)
	if mod.path == "" || !ok || (rel != "" && rel[0] != '/') {
		return c.std.ImportFrom(path, srcDir, mode)
	}
	p, err := c.load(filepath.Join(mod.root, filepath.FromSlash(rel)))
	switch {
	case err != nil:
		return nil, err
	case !p.done:
		return nil, fmt.Errorf("import cycle through %s", path)
	case p.pkg == nil:
		return nil, p.err
	}
	return p.pkg, nil
}

// importPath is the import path of the package in dir: its path inside the
// enclosing module, or the directory itself outside any module.
func (c *checker) importPath(dir string) (string, error) {
	mod, err := c.module(dir)
	if err != nil || mod.path == "" {
		return filepath.ToSlash(dir), err
	}
	rel, err := filepath.Rel(mod.root, dir)
	if err != nil || rel == "." {
		return mod.path, err
	}
	return mod.path + "/" + filepath.ToSlash(rel), nil
}

// module finds the module enclosing dir by walking up to the nearest go.mod.
// The zero module means there is none.
func (c *checker) module(dir string) (module, error) {
	if dir == "" {
		return module{}, nil
	}
	if m, ok := c.mods[dir]; ok {
		return m, nil
	}
	var m module
	gomod := filepath.Join(dir, "go.mod")
	if _, err := os.Stat(gomod); err == nil {
		path, err := modulePath(gomod)
		if err != nil {
			return module{}, err
		}
		m = module{root: dir, path: path}
	} else if parent := filepath.Dir(dir); parent != dir {
		if m, err = c.module(parent); err != nil {
			return module{}, err
		}
	}
	c.mods[dir] = m
	return m, nil
}

// modulePath reads the module line of a go.mod file.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		rest, _, _ = strings.Cut(rest, "//")
		rest = strings.TrimSpace(rest)
		if unq, err := strconv.Unquote(rest); err == nil {
			rest = unq
		}
		if rest != "" {
			return rest, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}

// inspect reports the violations in the files of p, naming files inside
// dir as given by the caller.
func (c *checker) inspect(p *loadedPkg, dir string) []Violation {
	var vs []Violation
	for _, f := range p.files {
		if outside(f) {
			continue
		}
		report := func(n ast.Node, rule, format string, args ...any) {
			pos := c.fset.Position(n.Pos())
			vs = append(vs, Violation{
				File:   filepath.Join(dir, filepath.Base(pos.Filename)),
				Line:   pos.Line,
				Rule:   rule,
				Detail: fmt.Sprintf(format, args...),
			})
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); forbiddenRand[path] {
				report(imp, ruleRandImport, "import of %q", path)
			}
		}
		for _, decl := range f.Decls {
			inSortedKeys := false
			if fd, ok := decl.(*ast.FuncDecl); ok {
				inSortedKeys = sortedKeysFuncs[fd.Name.Name]
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GoStmt:
					report(n, ruleGo, "go statement")
				case *ast.ChanType:
					report(n, ruleChan, "channel type %s", types.ExprString(n))
				case *ast.SendStmt:
					report(n, ruleChan, "channel send")
				case *ast.UnaryExpr:
					if n.Op == token.ARROW {
						report(n, ruleChan, "channel receive")
					}
				case *ast.SelectStmt:
					report(n, ruleChan, "select statement")
				case *ast.RangeStmt:
					c.checkRange(p, n, inSortedKeys, report)
				case *ast.Ident:
					checkUse(p.info.Uses[n], n, report)
				}
				return true
			})
		}
	}
	return vs
}

type reportFunc func(n ast.Node, rule, format string, args ...any)

func (c *checker) checkRange(p *loadedPkg, rs *ast.RangeStmt, inSortedKeys bool, report reportFunc) {
	t := p.info.TypeOf(rs.X)
	if t == nil {
		return
	}
	qual := types.RelativeTo(p.pkg)
	for _, u := range possibleUnderlying(t, 0) {
		switch u.(type) {
		case *types.Chan:
			report(rs, ruleChan, "range over a channel (%s)", types.TypeString(t, qual))
			return
		case *types.Map:
			if !inSortedKeys {
				report(rs, ruleMapRange, "range over a map (%s); iterate %s(m) instead", types.TypeString(t, qual), "SortedKeys")
			}
			return
		}
	}
}

// possibleUnderlying returns the underlying type of t or, for a type
// parameter, the underlying types of the terms of its constraint.
func possibleUnderlying(t types.Type, depth int) []types.Type {
	if depth > 8 {
		return nil
	}
	tp, isParam := types.Unalias(t).(*types.TypeParam)
	if isParam {
		t = tp.Constraint()
	}
	iface, ok := t.Underlying().(*types.Interface)
	if !ok || (!isParam && depth == 0) {
		return []types.Type{t.Underlying()}
	}
	var us []types.Type
	for i := range iface.NumEmbeddeds() {
		e := iface.EmbeddedType(i)
		if union, ok := e.(*types.Union); ok {
			for j := range union.Len() {
				us = append(us, possibleUnderlying(union.Term(j).Type(), depth+1)...)
			}
		} else {
			us = append(us, possibleUnderlying(e, depth+1)...)
		}
	}
	return us
}

// checkUse reports a use of a forbidden package-level object of another
// package: anything from sync, wall-clock functions of time, the global
// source of math/rand/v2 and the map-order functions of maps.
func checkUse(obj types.Object, id *ast.Ident, report reportFunc) {
	if obj == nil || obj.Pkg() == nil {
		return
	}
	pkg := obj.Pkg().Path()
	fn, isFunc := obj.(*types.Func)
	pkgFunc := isFunc && fn.Signature().Recv() == nil
	name := obj.Name()
	switch {
	case pkg == "sync" || pkg == "sync/atomic":
		if isFunc {
			report(id, ruleSync, "use of %s", fn.FullName())
		} else {
			report(id, ruleSync, "use of %s.%s", pkg, name)
		}
	case pkg == "time" && pkgFunc && wallClockFuncs[name]:
		report(id, ruleWallClock, "use of time.%s (use the sim clock and timers)", name)
	case pkg == "math/rand/v2" && pkgFunc && !seededRandFuncs[name]:
		report(id, ruleGlobalRand, "use of rand.%s from math/rand/v2 reads the global source (use a seeded *rand.Rand)", name)
	case pkg == "maps" && pkgFunc && !orderFreeMaps[name]:
		report(id, ruleMapsIter, "use of maps.%s iterates in map order (use %s)", name, "SortedKeys")
	}
}
