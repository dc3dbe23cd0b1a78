// Command plot draws the soak's samples (a CSV: seconds,rss_kb,goroutines,fds)
// as an SVG of three small charts, one per series, so "flat" can be seen.
// Standard library only: no gnuplot needed.
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "samples.csv", "CSV with header seconds,rss_kb,goroutines,fds")
	out := flag.String("out", "soak.svg", "SVG to write")
	title := flag.String("title", "sesame soak", "title")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	if len(rows) < 3 {
		log.Fatal("fewer than two samples")
	}
	names := rows[0]
	cols := make([][]float64, len(names))
	for _, r := range rows[1:] {
		for i := range names {
			v, _ := strconv.ParseFloat(strings.TrimSpace(r[i]), 64)
			cols[i] = append(cols[i], v)
		}
	}
	if err := os.WriteFile(*out, []byte(svg(*title, names, cols)), 0o644); err != nil {
		log.Fatal(err)
	}
}

func svg(title string, names []string, cols [][]float64) string {
	const w, h, pad = 900.0, 170.0, 50.0
	labels := map[string]string{"rss_kb": "RSS (MB)", "goroutines": "goroutines", "fds": "open files"}
	scale := map[string]float64{"rss_kb": 1.0 / 1024}
	var b strings.Builder
	n := len(names) - 1
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", w, 30+h*float64(n))
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%.0f" y="20" font-size="15">%s</text>`+"\n", pad, title)
	xs := cols[0]
	x0, x1 := xs[0], xs[len(xs)-1]
	for i := 1; i < len(names); i++ {
		top := 30 + h*float64(i-1)
		k := scale[names[i]]
		if k == 0 {
			k = 1
		}
		lo, hi := 0.0, 0.0
		for _, v := range cols[i] {
			hi = max(hi, v*k)
		}
		hi = max(hi*1.15, 1)
		px := func(x float64) float64 { return pad + (x-x0)/(x1-x0)*(w-2*pad) }
		py := func(y float64) float64 { return top + h - 30 - (y-lo)/(hi-lo)*(h-50) }
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", pad, top+20, w-2*pad, h-50)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">%s (0 – %.0f; last %.0f)</text>`+"\n", pad, top+15, labels[names[i]], hi, cols[i][len(cols[i])-1]*k)
		var pts []string
		for j, v := range cols[i] {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(xs[j]), py(v*k)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="#c33" stroke-width="1.5" points="%s"/>`+"\n", strings.Join(pts, " "))
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">%.0f s</text><text x="%.0f" y="%.0f" text-anchor="end">%.0f s</text>`+"\n",
			pad, top+h-15, x0, w-pad, top+h-15, x1)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
