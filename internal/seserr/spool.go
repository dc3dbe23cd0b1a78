package seserr

import "errors"

// What the operator reads when a spool directory cannot be used: a second
// sesame started on a data dir another one runs on, and `sesame admin
// spool adopt DIR` given the wrong DIR. (errors.Is tells them apart.)
var (
	// SpoolInUse: another process holds the directory's lock.
	SpoolInUse = errors.New("spool directory in use: a running sesame holds its lock (stop that node first)")
	// SpoolNotASpool: no lock file and no segment in the directory.
	SpoolNotASpool = errors.New("not a sesame spool directory (it has no lock file and no seg-*.log segment)")
	// SpoolIsOwn: adopt was given the adopting server's own spool.
	SpoolIsOwn = errors.New("that is this server's own spool: give the spool directory of the node that died")
)
