-- Merge history keeps who was merged into whom, not the snapshot of the loser nor the free-text reason.
UPDATE merges SET loser = jsonb_build_object('id', loser_id, 'erased', true), reason = ''
 WHERE aggregate = 'person' AND (winner_id = ANY($1) OR loser_id = ANY($1))
