package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBenchMarkdownTable: every row of the Markdown table has the header's
// columns, the breach column carries the CPU and the wall figure, and the
// note says whether WebSocket clients ran.
func TestBenchMarkdownTable(t *testing.T) {
	for _, clients := range []int{0, 100} {
		var b bytes.Buffer
		r := benchResult{Drones: 10, Discovered: 10, Machine: "test machine", WSClients: clients,
			ZoneCheckCPUUs: 1.25, ZoneCheckUs: 7.5}
		printBenchMarkdown(&b, []benchResult{r, r})
		lines := strings.Split(b.String(), "\n")
		cols := strings.Count(lines[0], "|")
		for _, l := range lines[1:3] {
			if strings.Count(l, "|") != cols {
				t.Errorf("clients %d: row %q has %d separators, header %d", clients, l, strings.Count(l, "|"), cols)
			}
		}
		if !strings.Contains(lines[0], "breach µs CPU / wall") || !strings.Contains(lines[2], "| 1.25 / 7.50 |") {
			t.Errorf("clients %d: breach column missing:\n%s", clients, b.String())
		}
		want := "No WebSocket clients"
		if clients > 0 {
			want = "WebSocket clients: 100, each watching every drone"
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("clients %d: note lacks %q:\n%s", clients, want, b.String())
		}
	}
}
