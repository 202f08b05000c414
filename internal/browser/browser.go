// Package browser loads a page in headless Chromium and reads back what it
// shows, for tests of the pages guardsim writes (package picture): the
// lanes, arrows and marks a sequence diagram draws, found by their data
// attributes, and whether each arrow is actually rendered.
//
// The browser is found by Available: $GUARDSIM_CHROMIUM, else chromium,
// chromium-browser or google-chrome on PATH, else /usr/bin/chromium. It runs
// headless without a sandbox (CI runs as root) and every call is bounded by
// Timeout.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds one call of Inspect or Screenshot, on top of its context.
const Timeout = 60 * time.Second

// Install says how to get the browser.
const Install = "install Chromium (Debian/Ubuntu: apt-get install -y chromium) or set GUARDSIM_CHROMIUM to a Chromium or Chrome binary"

// Shown is what a page shows, read from the DOM in document order.
type Shown struct {
	Lanes  []string // data-lane
	Arrows []ShownArrow
	Marks  []ShownMark
}

// ShownArrow is one element with data-arrow.
type ShownArrow struct {
	From, To           string // data-from, data-to
	SentStep, RecvStep int    // data-sent-step, data-recv-step
	Lost               bool   // data-lost="true"
	// Visible is whether the element is rendered: a bounding box of
	// non-zero width and height, inside its SVG's box, and not hidden by
	// display, visibility or opacity.
	Visible bool
}

// ShownMark is one element with data-mark.
type ShownMark struct {
	Kind string // data-mark
	Node string // data-node
	Step int    // data-step
}

// Require returns the browser's path for a test that needs it. Without a
// browser the test fails, saying how to install one, unless
// GUARDSIM_SKIP_BROWSER=1 is set: then it is skipped with that reason.
func Require(tb testing.TB) string {
	tb.Helper()
	path, err := Available()
	if err != nil {
		if os.Getenv("GUARDSIM_SKIP_BROWSER") == "1" {
			tb.Skipf("GUARDSIM_SKIP_BROWSER=1 and %v", err)
		}
		tb.Fatalf("%v (or set GUARDSIM_SKIP_BROWSER=1 to skip the browser tests)", err)
	}
	return path
}

// Available returns the path of the browser Inspect runs, or an error that
// says how to install one.
func Available() (string, error) {
	if p := os.Getenv("GUARDSIM_CHROMIUM"); p != "" {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
		return "", fmt.Errorf("GUARDSIM_CHROMIUM=%s is not an executable; %s", p, Install)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	if path, err := exec.LookPath("/usr/bin/chromium"); err == nil {
		return path, nil
	}
	return "", errors.New("no Chromium found (tried $GUARDSIM_CHROMIUM, chromium, chromium-browser, google-chrome, /usr/bin/chromium); " + Install)
}

// Inspect loads the HTML file at path and reads back what it shows.
func Inspect(ctx context.Context, path string) (*Shown, error) {
	type rawShown struct {
		Lanes  []string
		Arrows []struct {
			From, To, Sent, Recv, Lost string
			Visible                    bool
		}
		Marks []struct{ Kind, Node, Step string }
	}
	var raw rawShown
	err := run(ctx, path, func(ctx context.Context) (err error) {
		raw, err = chromedp.Run(ctx, chromedp.Evaluate[rawShown](readJS))
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &Shown{Lanes: raw.Lanes}
	for i, a := range raw.Arrows {
		sent, err1 := strconv.Atoi(a.Sent)
		recv, err2 := strconv.Atoi(a.Recv)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%s: arrow %d: %w", path, i, err)
		}
		if a.Lost != "true" && a.Lost != "false" {
			return nil, fmt.Errorf("%s: arrow %d: data-lost=%q", path, i, a.Lost)
		}
		s.Arrows = append(s.Arrows, ShownArrow{From: a.From, To: a.To, SentStep: sent, RecvStep: recv, Lost: a.Lost == "true", Visible: a.Visible})
	}
	for i, m := range raw.Marks {
		step, err := strconv.Atoi(m.Step)
		if err != nil {
			return nil, fmt.Errorf("%s: mark %d: %w", path, i, err)
		}
		s.Marks = append(s.Marks, ShownMark{Kind: m.Kind, Node: m.Node, Step: step})
	}
	return s, nil
}

// Screenshot loads the HTML file at path and returns a PNG of the whole
// page, in a window grown so that no scrolling region of the page scrolls
// (up to 16000 pixels a side).
func Screenshot(ctx context.Context, path string) ([]byte, error) {
	var png []byte
	err := run(ctx, path, func(ctx context.Context) error {
		const w0, h0 = 1400, 900
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w0, h0)); err != nil {
			return err
		}
		size, err := chromedp.Run(ctx, chromedp.Evaluate[struct{ W, H int64 }](sizeJS))
		if err != nil {
			return err
		}
		w, h := min(max(size.W, w0), 16000), min(max(size.H, h0), 16000)
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
			return err
		}
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		return err
	})
	return png, err
}

// run loads path in a fresh headless browser, calls f with the browser's
// context, and stops the browser.
func run(ctx context.Context, path string, f func(ctx context.Context) error) error {
	exe, err := Available()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return err
	}
	// The timeout bounds the whole browser: it lives only for this call.
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(fileURL(abs))); err != nil {
		return fmt.Errorf("%s in %s: %w", path, exe, err)
	}
	if err := f(bctx); err != nil {
		return fmt.Errorf("%s in %s: %w", path, exe, err)
	}
	return nil
}

func fileURL(abs string) string {
	return "file://" + filepath.ToSlash(abs)
}

// readJS reads the data attributes, in document order, and whether each
// arrow is rendered.
const readJS = `(() => {
  const all = sel => Array.from(document.querySelectorAll(sel));
  const shown = el => {
    const r = el.getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0)) return false;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) return false;
    }
    const svg = el.ownerSVGElement;
    if (svg) {
      const b = svg.getBoundingClientRect();
      if (r.left < b.left - 1 || r.top < b.top - 1 || r.right > b.right + 1 || r.bottom > b.bottom + 1) return false;
    }
    return true;
  };
  return {
    Lanes: all('[data-lane]').map(e => e.getAttribute('data-lane')),
    Arrows: all('[data-arrow]').map(e => ({
      From: e.getAttribute('data-from') || '',
      To: e.getAttribute('data-to') || '',
      Sent: e.getAttribute('data-sent-step') || '',
      Recv: e.getAttribute('data-recv-step') || '',
      Lost: e.getAttribute('data-lost') || '',
      Visible: shown(e),
    })),
    Marks: all('[data-mark]').map(e => ({
      Kind: e.getAttribute('data-mark') || '',
      Node: e.getAttribute('data-node') || '',
      Step: e.getAttribute('data-step') || '',
    })),
  };
})()`

// sizeJS is the window size at which no scrolling region scrolls.
const sizeJS = `(() => {
  let w = 0, h = 0;
  for (const e of document.querySelectorAll('*')) {
    w = Math.max(w, e.scrollWidth - e.clientWidth);
    h = Math.max(h, e.scrollHeight - e.clientHeight);
  }
  return {W: Math.ceil(window.innerWidth + w), H: Math.ceil(window.innerHeight + h)};
})()`
