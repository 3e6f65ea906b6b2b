// Package saved stores the dashboards users compose from the available
// widgets (R6.1) in PostgreSQL (table saved_dashboards): only their
// definitions (name, widgets, filters); the data always comes from the
// warehouse. Every method takes the owner's user id, so nobody reads or
// changes another user's dashboards.
package saved

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/calore-crm/calore"
)

// Dashboard is one saved dashboard.
type Dashboard struct {
	ID        int64             `json:"id"`
	UserID    int64             `json:"user_id"`
	Name      string            `json:"name"`
	Widgets   []string          `json:"widgets"`
	Filters   map[string]string `json:"filters"` // query parameters: from, to, office, segment, tier, …
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Store reads and writes saved dashboards.
type Store struct{ pool *pgxpool.Pool }

// New returns a store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Create saves a new dashboard of d.UserID and returns it with its id.
// A second dashboard of the same user with the same name is a conflict.
func (s *Store) Create(ctx context.Context, d Dashboard) (Dashboard, error) {
	if d.Filters == nil {
		d.Filters = map[string]string{}
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO saved_dashboards (user_id, name, widgets, filters)
		VALUES ($1, $2, $3, $4) RETURNING id, created_at, updated_at`,
		d.UserID, d.Name, d.Widgets, d.Filters).Scan(&d.ID, &d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return d, fmt.Errorf("save dashboard %q: %w", d.Name, calore.ErrConflict)
		}
		return d, fmt.Errorf("save dashboard %q: %w", d.Name, err)
	}
	return d, nil
}

// List returns the user's dashboards by name.
func (s *Store) List(ctx context.Context, userID int64) ([]Dashboard, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, user_id, name, widgets, filters, created_at, updated_at
		FROM saved_dashboards WHERE user_id = $1 ORDER BY name, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list dashboards of user %d: %w", userID, err)
	}
	out, err := pgx.CollectRows(rows, scanDashboard)
	if err != nil {
		return nil, fmt.Errorf("list dashboards of user %d: %w", userID, err)
	}
	return out, nil
}

// Get returns the user's dashboard id; another user's is not found.
func (s *Store) Get(ctx context.Context, userID, id int64) (Dashboard, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, user_id, name, widgets, filters, created_at, updated_at
		FROM saved_dashboards WHERE user_id = $1 AND id = $2`, userID, id)
	if err != nil {
		return Dashboard{}, fmt.Errorf("get dashboard %d: %w", id, err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDashboard)
	if errors.Is(err, pgx.ErrNoRows) {
		return Dashboard{}, fmt.Errorf("dashboard %d: %w", id, calore.ErrNotFound)
	}
	if err != nil {
		return Dashboard{}, fmt.Errorf("get dashboard %d: %w", id, err)
	}
	return d, nil
}

// Delete removes the user's dashboard id; another user's is not found.
func (s *Store) Delete(ctx context.Context, userID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM saved_dashboards WHERE user_id = $1 AND id = $2`, userID, id)
	if err != nil {
		return fmt.Errorf("delete dashboard %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("dashboard %d: %w", id, calore.ErrNotFound)
	}
	return nil
}

func scanDashboard(r pgx.CollectableRow) (Dashboard, error) {
	var d Dashboard
	err := r.Scan(&d.ID, &d.UserID, &d.Name, &d.Widgets, &d.Filters, &d.CreatedAt, &d.UpdatedAt)
	if d.Filters == nil {
		d.Filters = map[string]string{}
	}
	return d, err
}
