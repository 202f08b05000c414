package picture

import (
	"bufio"
	_ "embed"
	"html/template"
	"io"
)

//go:embed page.html.tmpl
var pageText string

var pageTemplate = template.Must(template.New("page").Parse(pageText))

// WriteHTML writes d as a self-contained HTML page: inline CSS and SVG, no
// script, nothing fetched from the network. The same diagram always gives
// the same bytes.
//
// The page has one element per lane (data-lane="NODE"), per message
// (data-arrow, with data-from, data-to, data-sent-step, data-recv-step and
// data-lost) and per mark (data-mark="KIND", data-node, data-step), in the
// order of d.Lanes, d.Messages and d.Marks. A message or mark naming a node
// d.Lanes lacks gets a lane of its own after d.Lanes. Rows must be in trace
// order; a step without a row is drawn at the next row after it. A diagram
// without rows is drawn on the steps its messages and marks name.
func WriteHTML(w io.Writer, d *Diagram) error {
	if d == nil {
		d = &Diagram{}
	}
	bw := bufio.NewWriter(w)
	if err := pageTemplate.Execute(bw, lay(d)); err != nil {
		return err
	}
	return bw.Flush()
}
