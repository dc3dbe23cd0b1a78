package seserr

import "errors"

// What the operator reads when `sesame admin migrate` refuses to copy the
// embedded database into PostgreSQL. (errors.Is tells them apart.)
var (
	// MigrateTargetNotEmpty: the target database already holds accounts,
	// which the copy would mix with the embedded installation's.
	MigrateTargetNotEmpty = errors.New("the target database already holds accounts: " +
		"migrate copies an installation into a new, empty PostgreSQL database (create one, or drop this one's tables first)")
	// MigrateNoSource: the data dir has no embedded database to copy.
	MigrateNoSource = errors.New("the data dir has no embedded database (sesame.db) to copy: " +
		"give the data dir of the installation with -c FILE or --data DIR")
	// MigrateSourceNotEmbedded: the source is not the embedded database.
	MigrateSourceNotEmbedded = errors.New("migrate copies the embedded SQLite database; this store is already PostgreSQL")
)

// BackupOnPostgres: `sesame admin backup` and `restore` copy the embedded
// database, and this installation keeps its state in PostgreSQL.
var BackupOnPostgres = errors.New("the state is in PostgreSQL ([store] url), not in the data dir: " +
	"back it up with pg_dump and pg_restore (docs/cluster.md); backup and restore copy the embedded database only")
