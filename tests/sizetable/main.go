// Command sizetable writes the size table of a host-suite report.json into
// the marked block of a markdown file, so size tables in docs/ are
// generated, not typed:
//
//	ARTIFACTS_DIR=$PWD/artifacts bash tests/run-all.sh
//	go run ./tests/sizetable -report artifacts/report.json -doc docs/DESIGN.md
package main

import (
	"flag"
	"fmt"
	"os"

	"dagger/mikrotik-tailscale/internal/report"
)

func main() {
	reportPath := flag.String("report", "artifacts/report.json", "report.json written by the host suite")
	docPath := flag.String("doc", "docs/DESIGN.md", "markdown file with a sizes block")
	flag.Parse()
	if err := run(*reportPath, *docPath); err != nil {
		fmt.Fprintln(os.Stderr, "sizetable:", err)
		os.Exit(1)
	}
}

func run(reportPath, docPath string) error {
	doc, err := report.Load(reportPath)
	if err != nil {
		return err
	}
	table, err := report.SizeTable(doc)
	if err != nil {
		return err
	}
	md, err := os.ReadFile(docPath)
	if err != nil {
		return err
	}
	out, err := report.Splice(string(md), table)
	if err != nil {
		return fmt.Errorf("%s: %w", docPath, err)
	}
	return os.WriteFile(docPath, []byte(out), 0o644)
}
