package postgres

import (
	"context"
	"fmt"

	"github.com/airctl/airctl/workflow/store"
)

const connCols = `conn_id, conn_type, description, ciphertext, updated_at`

func scanConnection(sc scanner) (store.Connection, error) {
	var c store.Connection
	err := sc.Scan(&c.ConnID, &c.ConnType, &c.Description, &c.Ciphertext, timeCol{&c.UpdatedAt})
	return c, err
}

// SetConnection creates or replaces the connection.
func (s *Store) SetConnection(ctx context.Context, c store.Connection) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO connection (`+connCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (conn_id) DO UPDATE SET conn_type = excluded.conn_type,
			description = excluded.description, ciphertext = excluded.ciphertext,
			updated_at = excluded.updated_at`,
		c.ConnID, c.ConnType, c.Description, c.Ciphertext, dbTime(now()))
	if err != nil {
		return fmt.Errorf("set connection %s: %w", c.ConnID, err)
	}
	return nil
}

func (s *Store) GetConnection(ctx context.Context, connID string) (store.Connection, error) {
	c, err := scanConnection(s.pool.QueryRow(ctx, `SELECT `+connCols+` FROM connection WHERE conn_id = $1`, connID))
	if err != nil {
		return store.Connection{}, fmt.Errorf("get connection %s: %w", connID, dbErr(err))
	}
	return c, nil
}

func (s *Store) DeleteConnection(ctx context.Context, connID string) error {
	if err := s.exec(ctx, `DELETE FROM connection WHERE conn_id = $1`, connID); err != nil {
		return fmt.Errorf("delete connection %s: %w", connID, err)
	}
	return nil
}

func (s *Store) ListConnections(ctx context.Context) ([]store.Connection, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+connCols+` FROM connection ORDER BY conn_id`)
	cs, err := scanAll(rows, err, scanConnection)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return cs, nil
}
