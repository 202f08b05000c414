package planted

import "github.com/guardsim/guardsim/internal/detguard/testdata/lib"

func names(r *lib.Registry) []string {
	var out []string
	for _, k := range lib.SortedKeys(r.Actors) {
		out = append(out, k)
	}
	for k := range r.Actors {
		out = append(out, k)
	}
	return out
}
