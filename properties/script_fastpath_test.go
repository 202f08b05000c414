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

// TestFieldsFastPathIsByRune: the in-place path splits every line as the
// rune-by-rune path does.
func TestFieldsFastPathIsByRune(t *testing.T) {
	for _, line := range []string{"", " ", "\t", "#", "world profile=seed seed=1 runners=r1,r2", "  http c1  actor=a1\t# comment",
		"behavior a1 body=\"a b\" # x", "send w1 h\xffi", "a#b c", "é ü\tñ", "x=\"\"", "\"", "trailing "} {
		got, err := fields(line)
		want, werr := fieldsByRune(nil, line)
		if (err == nil) != (werr == nil) || !slices.Equal(got, want) {
			t.Errorf("fields(%q) = %q, %v; by rune %q, %v", line, got, err, want, werr)
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
