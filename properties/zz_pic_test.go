package properties

import (
	"fmt"
	"testing"
)

func TestZZPic(t *testing.T) {
	w, err := RunScriptFile("testdata/kept/stale_preopen_close_reaches_client.txt", ScriptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vs := Check(w)
	d, err := Picture(w, "t", nil, nil, vs)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(d.Lanes, len(d.Rows), len(d.Messages), len(d.Marks))
	for _, m := range d.Messages[:5] {
		fmt.Printf("%+v\n", m)
	}
	for _, m := range d.Marks {
		if m.Kind != 1 {
			fmt.Printf("%v %s %d-%d %s\n", m.Kind, m.Node, m.Step, m.EndStep, m.Text)
		}
	}
	n := 0
	for _, m := range d.Messages {
		if m.Lost {
			n++
			if n < 5 {
				fmt.Printf("LOST %+v\n", m)
			}
		}
	}
}

func TestZZPic2(t *testing.T) {
	w, _ := RunScriptFile("testdata/kept/stale_preopen_close_reaches_client.txt", ScriptOptions{})
	c := map[string]int{}
	for _, m := range w.Sim.Net().MessageRecords() {
		c[m.State.String()]++
	}
	r := 0
	for _, l := range w.Sim.TraceLines() {
		if parseTraceLine(l).event == "recv" {
			r++
		}
	}
	fmt.Println(c, "recv lines", r, "lines", len(w.Sim.TraceLines()))
}
