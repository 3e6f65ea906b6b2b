package calore

import "time"

// Merge is the record of two people or two organisations merged into one
// (R4.4): the loser is kept with status duplicate and MergedInto the winner;
// its emails, sources, affiliations, interactions, donations… moved to the
// winner.
type Merge struct {
	ID        int64            `json:"id"`
	Aggregate string           `json:"aggregate"` // person or organisation
	WinnerID  int64            `json:"winner_id"`
	LoserID   int64            `json:"loser_id"`
	MergedAt  time.Time        `json:"merged_at"`
	MergedBy  *int64           `json:"merged_by,omitempty"` // the user who approved it
	Reason    string           `json:"reason,omitempty"`
	Moved     map[string]int64 `json:"moved"` // rows moved per table
}

// DuplicateCandidate is a pair of records that are likely the same person or
// organisation, for staff to merge or reject (R4.4). LowID < HighID.
type DuplicateCandidate struct {
	Aggregate string   `json:"aggregate"`
	LowID     int64    `json:"low_id"`
	HighID    int64    `json:"high_id"`
	Score     float64  `json:"score"`   // 0-1, the strongest reason's
	Reasons   []string `json:"reasons"` // e.g. "same name and birth year", "same VAT number"
}
