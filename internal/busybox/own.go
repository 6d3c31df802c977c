package busybox

import _ "embed"

// The project's own applets are C files written into the unpacked BusyBox
// source before it is scanned: BusyBox's build scripts collect their
// //applet:, //config: and //kbuild: lines like upstream's, so the applet
// list, kconfig, --list and UPX treat them like any other applet.

//go:embed applets/tshealth.c
var tshealthC string

// SourceFile is one file added to the unpacked source tree.
type SourceFile struct {
	Path    string // relative to the source tree
	Content string
}

// OwnApplets are the files to write into the source tree right after it
// is unpacked.
func OwnApplets() []SourceFile {
	return []SourceFile{{Path: "miscutils/tshealth.c", Content: tshealthC}}
}
