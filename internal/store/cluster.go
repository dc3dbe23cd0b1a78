package store

import (
	"context"
	"fmt"
	"time"
)

// ClusterNode is one server's row in cluster_nodes: what it last said
// about itself.
type ClusterNode struct {
	NodeName string
	Version  string
	// StartedAt is when the node's `sesame serve` started; LastSeen its
	// last heartbeat.
	StartedAt time.Time
	LastSeen  time.Time
	// SpoolDepth is the messages pending in its spool at LastSeen.
	SpoolDepth int64
	// Listen is its listeners as it reports them (e.g. "smtp=…,api=…").
	Listen string
}

// ClusterHeartbeat writes n's row, replacing what the node said before.
func (s *Store) ClusterHeartbeat(ctx context.Context, n ClusterNode) error {
	_, err := s.writes.ExecContext(ctx, `INSERT INTO cluster_nodes
		(node_name, version, started_at, last_seen, spool_depth, listen) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (node_name) DO UPDATE SET
		version = excluded.version, started_at = excluded.started_at, last_seen = excluded.last_seen,
		spool_depth = excluded.spool_depth, listen = excluded.listen`,
		n.NodeName, n.Version, toDB(n.StartedAt), toDB(n.LastSeen), n.SpoolDepth, n.Listen)
	if err != nil {
		return fmt.Errorf("store: heartbeat of node %s: %w", n.NodeName, err)
	}
	return nil
}

// ClusterNodes lists every node that has ever sent a heartbeat, by name.
func (s *Store) ClusterNodes(ctx context.Context) ([]ClusterNode, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT node_name, version, started_at, last_seen, spool_depth, listen
		FROM cluster_nodes ORDER BY node_name`)
	if err != nil {
		return nil, fmt.Errorf("store: list cluster nodes: %w", err)
	}
	defer rows.Close()
	var ns []ClusterNode
	for rows.Next() {
		var n ClusterNode
		var started, seen int64
		if err := rows.Scan(&n.NodeName, &n.Version, &started, &seen, &n.SpoolDepth, &n.Listen); err != nil {
			return nil, fmt.Errorf("store: list cluster nodes: %w", err)
		}
		n.StartedAt, n.LastSeen = fromDB(started), fromDB(seen)
		ns = append(ns, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list cluster nodes: %w", err)
	}
	return ns, nil
}
