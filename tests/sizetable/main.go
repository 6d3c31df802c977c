// Command sizetable fills every generated-table block (see suitereport.Tables)
// found in markdown files from a host-suite report.json, so size tables in
// docs/ are generated, not typed:
//
//	ARTIFACTS_DIR=$PWD/artifacts bash tests/run-all.sh
//	go run ./tests/sizetable -report artifacts/report.json README.md docs/DESIGN.md docs/BUSYBOX.md
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"dagger/mikrotik-tailscale/internal/suitereport"
)

func main() {
	reportPath := flag.String("report", "artifacts/report.json", "report.json written by the host suite")
	flag.Parse()
	docs := flag.Args()
	if len(docs) == 0 {
		docs = []string{"README.md", "docs/DESIGN.md", "docs/BUSYBOX.md"}
	}
	for _, d := range docs {
		if err := run(*reportPath, d); err != nil {
			fmt.Fprintln(os.Stderr, "sizetable:", err)
			os.Exit(1)
		}
	}
}

func run(reportPath, docPath string) error {
	doc, err := suitereport.Load(reportPath)
	if err != nil {
		return err
	}
	md, err := os.ReadFile(docPath)
	if err != nil {
		return err
	}
	out, filled := string(md), 0
	for name, render := range suitereport.Tables {
		if !strings.Contains(out, suitereport.Begin(name)) {
			continue
		}
		table, err := render(doc)
		if err != nil {
			return err
		}
		if out, err = suitereport.Splice(out, name, table); err != nil {
			return fmt.Errorf("%s: %w", docPath, err)
		}
		filled++
	}
	if filled == 0 {
		return fmt.Errorf("%s has no generated-table block", docPath)
	}
	return os.WriteFile(docPath, []byte(out), 0o644)
}
