package backup

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sesame/internal/safefile"
	"sesame/internal/spool"
)

// copySpool copies a spool that its server keeps writing, so that every
// message appended before the copy began is in the copy (pending, or done
// by a done record the copy also holds), and returns how many messages
// the copy holds pending.
//
// The spool only ever appends to its segment files, creates new ones with
// higher numbers and deletes old ones (see internal/spool). So:
//   - A segment is copied from its start to its end at the time of reading.
//     A message acknowledged before the backup began was fsync'd whole
//     before; the copy of its segment holds it. A frame being written
//     while we read may be cut: a torn tail, which the spool's recovery
//     truncates (copySpool runs that recovery on the copy to check it).
//   - Segments are copied oldest first, and the directory is listed again
//     until no segment is new: a pending message moves only forward (into
//     the newest segment, by compaction) and only then is its old segment
//     deleted, so if the old segment is gone by the time we reach it the
//     move record is in a segment we copy after it.
//   - A segment deleted before we reach it held nothing pending, by the
//     spool's own rule. A done record missing from the copy (its segment
//     went after we copied the message's) costs a second delivery, never a
//     message.
//   - Body files (messages bigger than the spool's memory limit) are copied
//     after the segments: a body that a copied record needs and that is gone
//     by then belonged to a message done before, whose done record is in a
//     segment copied after its message's (the body goes after the done
//     record is durable). Recovery drops the record; the message was done.
func copySpool(src, dst string) (int, error) {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return 0, nil // a server that never started has no spool yet
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		return 0, fmt.Errorf("spool: %w", err)
	}
	seen := map[string]bool{}
	for {
		names, err := spoolFiles(src, isSegment)
		if err != nil {
			return 0, err
		}
		var fresh []string
		for _, n := range names {
			if !seen[n] {
				fresh = append(fresh, n)
			}
		}
		if len(fresh) == 0 {
			break
		}
		// Segment names are fixed-width hex: sorted names are in age order.
		slices.Sort(fresh)
		for _, n := range fresh {
			seen[n] = true
			if _, err := copyFile(filepath.Join(src, n), filepath.Join(dst, n), 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return 0, fmt.Errorf("spool: %w", err)
			}
		}
	}
	bodies, err := spoolFiles(src, isBody)
	if err != nil {
		return 0, err
	}
	for _, n := range bodies {
		if _, err := copyFile(filepath.Join(src, n), filepath.Join(dst, n), 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("spool: %w", err)
		}
	}
	return settle(dst)
}

// settle opens the copied spool once, which runs its recovery: a torn tail
// is cut, a record whose body is gone is dropped, segments with nothing
// pending are removed. The copy is then what a restored server will read,
// and a copy that does not open fails the backup instead of the restore.
func settle(dir string) (int, error) {
	sp, err := spool.Open(dir, spool.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return 0, fmt.Errorf("spool copy does not open: %w", err)
	}
	n := sp.Len()
	if err := sp.Close(); err != nil {
		return 0, fmt.Errorf("spool copy: %w", err)
	}
	// The spool's own lock file belongs to the process that opens it.
	if err := os.Remove(filepath.Join(dir, "lock")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("spool copy: %w", err)
	}
	return n, safefile.SyncDir(dir)
}

func spoolFiles(dir string, keep func(string) bool) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var names []string
	for _, de := range des {
		if de.Type().IsRegular() && keep(de.Name()) {
			names = append(names, de.Name())
		}
	}
	return names, nil
}

// The spool's file names (internal/spool: segmentName, bodyPrefix).
func isSegment(name string) bool {
	return strings.HasPrefix(name, "seg-") && strings.HasSuffix(name, ".log")
}

func isBody(name string) bool { return strings.HasPrefix(name, "body") }
