package admin

import (
	"context"
	"errors"
	"flag"
	"path/filepath"

	"sesame/internal/queuectl"
)

// withQueue opens the queue (through the running server's control socket,
// or the spool directly), runs fn and closes it.
func (a *admin) withQueue(ctx context.Context, fn func(q queuectl.Queue) error) error {
	if a.queue == nil {
		return errors.New("queue commands are not available here")
	}
	q, err := a.queue(ctx)
	if err != nil {
		return err
	}
	defer q.Close()
	return fn(q)
}

func (a *admin) queueList(ctx context.Context, name string, args []string) error {
	a.withoutStore()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return a.run(fs, name, args, 0, "", func([]string) error {
		return a.withQueue(ctx, func(q queuectl.Queue) error {
			ms, err := q.List(ctx)
			if err != nil {
				return err
			}
			if ms == nil {
				ms = []queuectl.Message{}
			}
			return a.print(ms)
		})
	})
}

func (a *admin) queueShow(ctx context.Context, name string, args []string) error {
	a.withoutStore()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return a.run(fs, name, args, 1, "a message id", func(pos []string) error {
		return a.withQueue(ctx, func(q queuectl.Queue) error {
			d, err := q.Show(ctx, pos[0])
			if err != nil {
				return err
			}
			return a.print(d)
		})
	})
}

func (a *admin) queueRetry(ctx context.Context, name string, args []string) error {
	a.withoutStore()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	all := fs.Bool("all", false, "retry every deferred message")
	pos, err := a.parse(fs, name, args)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	if err != nil {
		return err
	}
	if *all == (len(pos) == 1) || len(pos) > 1 {
		return commandErr(name, "want one message id or --all")
	}
	return a.withQueue(ctx, func(q queuectl.Queue) error {
		n := 1
		if *all {
			n, err = q.RetryAll(ctx)
		} else {
			err = q.Retry(ctx, pos[0])
		}
		if err != nil {
			return err
		}
		return a.print(map[string]int{"retried": n})
	})
}

func (a *admin) queueDelete(ctx context.Context, name string, args []string) error {
	a.withoutStore()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	pos, err := a.parse(fs, name, args)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return commandErr(name, "want at least one message id")
	}
	return a.withQueue(ctx, func(q queuectl.Queue) error {
		if err := q.Delete(ctx, pos...); err != nil {
			return err
		}
		return a.print(map[string]int{"deleted": len(pos)})
	})
}

// spoolAdopt moves a dead node's queued mail into this node's spool
// (spool.Adopt): through the running server, or into the data dir's spool
// when none runs, as the queue commands do.
func (a *admin) spoolAdopt(ctx context.Context, name string, args []string) error {
	a.withoutStore()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return a.run(fs, name, args, 1, "the dead node's spool directory", func(pos []string) error {
		// The server resolves the path, and its working directory is not
		// ours.
		dir, err := filepath.Abs(pos[0])
		if err != nil {
			return err
		}
		return a.withQueue(ctx, func(q queuectl.Queue) error {
			res, err := q.Adopt(ctx, dir)
			if err != nil {
				return err
			}
			return a.print(res)
		})
	})
}
