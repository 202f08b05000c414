package properties

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/guardsim/guardsim/model"
)

// TestLineOfIsScanText checks that lineOf gives every line sc.Text gives.
func TestLineOfIsScanText(t *testing.T) {
	for _, text := range []string{"", "a", "a\n", "a\nb", "a\r\nb\r\n", "a\r", "a\r\r\nb", "\n\n x \n", "a\rb\n", "x\r\n\r\ny"} {
		sc := bufio.NewScanner(strings.NewReader(text))
		off := 0
		for sc.Scan() {
			want := sc.Text()
			if got := lineOf(text, &off, sc); got != want {
				t.Errorf("%q: lineOf = %q, sc.Text() = %q", text, got, want)
			}
		}
	}
}

// fieldsByRune is fields as it was before its in-place fast path: the
// reference every line must split the same way under.
func fieldsByRune(line string) ([]string, bool) {
	var out []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, c := range line {
		switch {
		case c == '"':
			quoted, inWord = !quoted, true
		case quoted:
			cur.WriteRune(c)
		case c == '#':
			goto end
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
end:
	if quoted {
		return nil, false
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, true
}

func TestFieldsFastPathIsByRune(t *testing.T) {
	for _, line := range []string{"", " ", "\t", "#", "world profile=seed seed=1 runners=r1,r2", "  http c1  actor=a1\t# comment",
		"behavior a1 body=\"a b\" # x", "send w1 h\xffi", "a#b c", "é ü\tñ", "x=\"\"", "\"", "trailing "} {
		got, err := fields(line)
		want, ok := fieldsByRune(line)
		if (err == nil) != ok || !slices.Equal(got, want) {
			t.Errorf("fields(%q) = %q, %v; by rune %q, %v", line, got, err, want, ok)
		}
	}
}

func TestSprintRunnersIsFmt(t *testing.T) {
	for _, ids := range [][]model.RunnerID{nil, {}, {"r1"}, {"r1", "r2", "r3"}, {"a b", ""}} {
		if got, want := sprintRunners(ids), fmt.Sprint(ids); got != want {
			t.Errorf("sprintRunners(%q) = %q, fmt gives %q", ids, got, want)
		}
	}
}
