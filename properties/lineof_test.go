package properties

import (
	"bufio"
	"strings"
	"testing"
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
