package postgres

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// DataKey is a person's data key (table person_keys, docs/gdpr.md): `calore
// relay` seals the personal fields of the changes it publishes with it,
// `calore sink` opens them, and ErasePerson destroys it.
type DataKey struct {
	ID       int64 // the kid written next to sealed values
	PersonID int64
	Secret   []byte // as stored: 32 bytes (AES-256), or wrapped by a master key (ingest/pii.Wrapper)
}

// PersonKeys returns the data keys of people, by person id, creating those
// that do not exist yet: 32 random bytes, passed through wrap (nil: stored
// as they are). Each creation commits at once (the store should run on a
// pool, not a transaction): a consumer must find the key before the first
// message sealed with it reaches Kafka.
func (s *Store) PersonKeys(ctx context.Context, people []int64, wrap func(person int64, secret []byte) ([]byte, error)) (map[int64]DataKey, error) {
	out := make(map[int64]DataKey, len(people))
	want := people
	for attempt := 0; attempt < 3 && len(want) > 0; attempt++ {
		secrets := make([][]byte, len(want))
		buf := make([]byte, 32*len(want))
		if _, err := rand.Read(buf); err != nil {
			return nil, fmt.Errorf("data keys: random: %w", err)
		}
		for i, p := range want {
			secrets[i] = buf[32*i : 32*(i+1) : 32*(i+1)]
			if wrap != nil {
				w, err := wrap(p, secrets[i])
				if err != nil {
					return nil, fmt.Errorf("data keys: wrap: %w", err)
				}
				secrets[i] = w
			}
		}
		rows, err := s.db.Query(ctx, query("keys_for_people.sql"), want, secrets)
		if err != nil {
			return nil, fmt.Errorf("data keys of %d people: %w", len(want), err)
		}
		if err := collectKeys(rows, func(k DataKey) { out[k.PersonID] = k }); err != nil {
			return nil, fmt.Errorf("data keys of %d people: %w", len(want), err)
		}
		var missing []int64
		for _, p := range want {
			if _, ok := out[p]; !ok {
				missing = append(missing, p)
			}
		}
		want = missing
	}
	if len(want) > 0 {
		return nil, fmt.Errorf("data keys: %d people still without a key after three tries", len(want))
	}
	return out, nil
}

// DataKeys returns data keys by key id. A kid missing from the answer was
// destroyed by an erasure (kids are never reused).
func (s *Store) DataKeys(ctx context.Context, kids []int64) (map[int64]DataKey, error) {
	out := make(map[int64]DataKey, len(kids))
	rows, err := s.db.Query(ctx, query("keys_by_id.sql"), kids)
	if err != nil {
		return nil, fmt.Errorf("read %d data keys: %w", len(kids), err)
	}
	if err := collectKeys(rows, func(k DataKey) { out[k.ID] = k }); err != nil {
		return nil, fmt.Errorf("read %d data keys: %w", len(kids), err)
	}
	return out, nil
}

func collectKeys(rows pgx.Rows, add func(DataKey)) error {
	var k DataKey
	_, err := pgx.ForEachRow(rows, []any{&k.ID, &k.PersonID, &k.Secret}, func() error {
		add(DataKey{ID: k.ID, PersonID: k.PersonID, Secret: append([]byte(nil), k.Secret...)})
		return nil
	})
	return err
}
