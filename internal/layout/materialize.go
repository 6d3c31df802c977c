package layout

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Sources maps each artifact to a file on disk.
type Sources map[Source]string

// WriteTar writes one layer as a tar stream with fixed owner (root) and
// timestamps, so equal inputs give equal bytes.
func WriteTar(w io.Writer, l Layer, src Sources, mtime time.Time) error {
	tw := tar.NewWriter(w)
	for _, e := range l.Entries {
		hdr := &tar.Header{Name: e.Path, Mode: int64(e.Mode.Perm()), ModTime: mtime.UTC(), Format: tar.FormatPAX}
		var body string
		switch e.Kind {
		case Dir:
			hdr.Typeflag, hdr.Name = tar.TypeDir, e.Path+"/"
		case Symlink:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.Target
		case File:
			if e.From == "" {
				hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(e.Content))
				break
			}
			p, ok := src[e.From]
			if !ok {
				return fmt.Errorf("%s: no source for %q", e.Path, e.From)
			}
			st, err := os.Stat(p)
			if err != nil {
				return err
			}
			hdr.Typeflag, hdr.Size, body = tar.TypeReg, st.Size(), p
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if e.Kind == File && e.From == "" {
			if _, err := io.WriteString(tw, e.Content); err != nil {
				return err
			}
		}
		if body != "" {
			f, err := os.Open(body)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// WriteRootfs materialises all layers into dir (which must not exist yet),
// as the container runtime would see the flattened image.
func WriteRootfs(dir string, layers []Layer, src Sources) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for _, l := range layers {
		for _, e := range l.Entries {
			p := filepath.Join(dir, filepath.FromSlash(e.Path))
			switch e.Kind {
			case Dir:
				if err := os.Mkdir(p, e.Mode.Perm()); err != nil {
					return err
				}
				// Mkdir is subject to umask; set the recipe's mode exactly.
				if err := os.Chmod(p, e.Mode.Perm()); err != nil {
					return err
				}
			case Symlink:
				if err := os.Symlink(e.Target, p); err != nil {
					return err
				}
			case File:
				b := []byte(e.Content)
				if e.From != "" {
					var err error
					if b, err = os.ReadFile(src[e.From]); err != nil {
						return fmt.Errorf("%s: %w", e.Path, err)
					}
				}
				if err := os.WriteFile(p, b, e.Mode.Perm()); err != nil {
					return err
				}
				if err := os.Chmod(p, e.Mode.Perm()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
