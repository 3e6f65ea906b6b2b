-- Seniority of a person's role at an organisation (R1.3: current role and
-- employer of alumni, imported with `calore import --kind affiliations`).

-- +goose Up
ALTER TABLE affiliations ADD COLUMN seniority text NOT NULL DEFAULT ''
    CHECK (seniority IN ('', 'entry', 'junior', 'middle', 'senior', 'executive'));

-- +goose Down
ALTER TABLE affiliations DROP COLUMN seniority;
