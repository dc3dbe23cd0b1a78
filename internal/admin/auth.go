package admin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"

	"sesame/internal/queuectl"
)

// withServer reaches the running server's control socket, runs fn and
// closes it. The SMTP AUTH lockout lives in that server's memory only: with
// no server there is nothing to reach, and the error says so.
func (a *admin) withServer(ctx context.Context, what string, fn func(s queuectl.AuthControl) error) error {
	if a.server == nil {
		return errors.New("auth commands are not available here")
	}
	s, err := a.server(ctx)
	if errors.Is(err, queuectl.ErrNoServer) {
		return fmt.Errorf("%w (%s: the lockout lives in the server's memory)", err, what)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// authUnlock clears the AUTH lockout of an address (every user name tried
// from it, locked or still counting) in the running server.
func (a *admin) authUnlock(ctx context.Context, name string, args []string) error {
	a.withoutStore()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return a.run(fs, name, args, 1, "one IP address", func(pos []string) error {
		ip, err := netip.ParseAddr(pos[0])
		if err != nil {
			return commandErr(name, fmt.Sprintf("%q is not an IP address", pos[0]))
		}
		return a.withServer(ctx, "nothing to unlock", func(s queuectl.AuthControl) error {
			n, err := s.UnlockAuth(ctx, ip.Unmap().String())
			if err != nil {
				return err
			}
			return a.print(queuectl.Unlocked{IP: ip.Unmap().String(), Cleared: n})
		})
	})
}

// authList lists the clients the running server's AUTH lockout refuses now.
func (a *admin) authList(ctx context.Context, name string, args []string) error {
	a.withoutStore()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return a.run(fs, name, args, 0, "", func([]string) error {
		return a.withServer(ctx, "nothing is locked out", func(s queuectl.AuthControl) error {
			ls, err := s.AuthLocks(ctx)
			if err != nil {
				return err
			}
			if ls == nil {
				ls = []queuectl.AuthLock{}
			}
			return a.print(ls)
		})
	})
}
