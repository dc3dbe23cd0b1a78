package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"sesame/internal/seserr"
)

// CopyInto copies every row of src, the embedded SQLite database, into
// dst (PostgreSQL, for a move to a cluster), in one transaction on each
// side, and returns the rows copied per table. The tables come from
// SQLite's own schema, so a table a later migration adds is copied
// without a change here. dst must be at src's schema version (both opened
// by this binary are) and must hold no account: rows its migrations put
// in (a counter's first row) are replaced by src's. schema_migrations and
// store_meta are dst's own and are not copied; dst must be opened with
// src's secret key, so that the sealed secrets copied stay readable.
func CopyInto(ctx context.Context, src, dst *Store) (map[string]int64, error) {
	if src.pg {
		return nil, seserr.MigrateSourceNotEmbedded
	}
	stx, err := src.reads.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: copy: begin source: %w", err)
	}
	defer stx.Rollback()
	tables, err := sqliteTables(ctx, stx)
	if err != nil {
		return nil, fmt.Errorf("store: copy: list tables: %w", err)
	}
	dtx, err := dst.writes.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: copy: begin target: %w", err)
	}
	defer dtx.Rollback()
	var accounts int64
	if err := dtx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&accounts); err != nil {
		return nil, fmt.Errorf("store: copy: count target accounts: %w", err)
	}
	if accounts > 0 {
		return nil, seserr.MigrateTargetNotEmpty
	}
	// Referencing tables are emptied before the tables they reference.
	for _, t := range slices.Backward(tables) {
		if _, err := dtx.ExecContext(ctx, `DELETE FROM `+quoteIdent(t)); err != nil {
			return nil, fmt.Errorf("store: copy: empty target %s: %w", t, err)
		}
	}
	counts := make(map[string]int64, len(tables))
	for _, t := range tables {
		n, err := copyTable(ctx, stx, dtx, dst.pg, t)
		if err != nil {
			return nil, fmt.Errorf("store: copy %s: %w", t, err)
		}
		counts[t] = n
	}
	if dst.pg {
		if err := resetIdentities(ctx, dtx); err != nil {
			return nil, fmt.Errorf("store: copy: %w", err)
		}
	}
	if err := dtx.Commit(); err != nil {
		return nil, fmt.Errorf("store: copy: commit target: %w", err)
	}
	return counts, nil
}

// notCopied are the tables the target keeps for itself.
var notCopied = []string{"schema_migrations", "store_meta"}

// sqliteTables lists the SQLite database's tables to copy, every table
// after the tables its foreign keys reference.
func sqliteTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	names, err := queryStrings(ctx, tx, `SELECT name FROM sqlite_master
		WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	refs := map[string][]string{}
	for _, t := range names {
		if refs[t], err = queryStrings(ctx, tx, `SELECT "table" FROM pragma_foreign_key_list(?)`, t); err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", t, err)
		}
	}
	var ordered []string
	done := map[string]bool{}
	var visit func(t string)
	visit = func(t string) {
		if done[t] {
			return
		}
		done[t] = true // a cycle (none today) is broken here rather than looping
		for _, r := range refs[t] {
			visit(r)
		}
		if !slices.Contains(notCopied, t) && slices.Contains(names, t) {
			ordered = append(ordered, t)
		}
	}
	for _, t := range names {
		visit(t)
	}
	return ordered, nil
}

// copyBatch bounds the rows of one INSERT (and its placeholders, which
// PostgreSQL caps at 65535).
const copyBatch = 500

// copyTable copies table's rows, column by name, in multi-row INSERTs.
func copyTable(ctx context.Context, stx, dtx *sql.Tx, pg bool, table string) (int64, error) {
	cols, err := queryStrings(ctx, stx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return 0, fmt.Errorf("columns: %w", err)
	}
	types, err := targetColumns(ctx, dtx, pg, table)
	if err != nil {
		return 0, fmt.Errorf("target columns: %w", err)
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		if _, ok := types[c]; !ok {
			return 0, fmt.Errorf("the target has no column %s (is it at the same schema version?)", c)
		}
		quoted[i] = quoteIdent(c)
	}
	rows, err := stx.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM `+quoteIdent(table))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	per := max(1, min(copyBatch, 60000/len(cols)))
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	flush := func(batch []any) error {
		n := len(batch) / len(cols)
		if n == 0 {
			return nil
		}
		st, ok := stmts[n]
		if !ok {
			one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
			q := `INSERT INTO ` + quoteIdent(table) + ` (` + strings.Join(quoted, ", ") + `) VALUES ` +
				strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
			var err error
			if st, err = dtx.PrepareContext(ctx, q); err != nil {
				return err
			}
			stmts[n] = st
		}
		_, err := st.ExecContext(ctx, batch...)
		return err
	}
	var copied int64
	batch := make([]any, 0, per*len(cols))
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return copied, err
		}
		for i, v := range vals {
			batch = append(batch, convertForTarget(v, types[cols[i]]))
		}
		if len(batch) == cap(batch) {
			if err := flush(batch); err != nil {
				return copied, err
			}
			copied += int64(per)
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return copied, err
	}
	if err := flush(batch); err != nil {
		return copied, err
	}
	return copied + int64(len(batch)/len(cols)), nil
}

// targetColumns maps the target table's columns to their types, lower case.
func targetColumns(ctx context.Context, tx *sql.Tx, pg bool, table string) (map[string]string, error) {
	q := `SELECT name, type FROM pragma_table_info(?)`
	if pg {
		q = `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ?`
	}
	rows, err := tx.QueryContext(ctx, q, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		types[name] = strings.ToLower(typ)
	}
	if len(types) == 0 && rows.Err() == nil {
		return nil, fmt.Errorf("the target has no table %s", table)
	}
	return types, rows.Err()
}

// convertForTarget gives a SQLite value the Go type the target column
// takes: SQLite keeps whatever was stored, PostgreSQL wants bytes for
// BYTEA and text for TEXT. Integers and floats pass as they are.
func convertForTarget(v any, typ string) any {
	switch x := v.(type) {
	case string:
		if typ == "bytea" || typ == "blob" {
			return []byte(x)
		}
	case []byte:
		if strings.HasPrefix(typ, "text") || strings.HasPrefix(typ, "character") {
			return string(x)
		}
	}
	return v
}

// resetIdentities moves every identity column's sequence past the largest
// value copied in: rows copied with explicit values leave the sequence at
// its start, and the next insert would collide.
func resetIdentities(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES'`)
	if err != nil {
		return fmt.Errorf("identity columns: %w", err)
	}
	var idents [][2]string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return fmt.Errorf("identity columns: %w", err)
		}
		idents = append(idents, [2]string{t, c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("identity columns: %w", err)
	}
	for _, id := range idents {
		q := `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(` + quoteIdent(id[1]) + `) FROM ` +
			quoteIdent(id[0]) + `), 0) + 1, false)`
		if _, err := tx.ExecContext(ctx, q, quoteIdent(id[0]), id[1]); err != nil {
			return fmt.Errorf("reset sequence of %s.%s: %w", id[0], id[1], err)
		}
	}
	return nil
}

// queryStrings runs a query of one text column.
func queryStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// quoteIdent quotes a table or column name for either engine.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
