-- Back-office users, interactions, events, registrations, campaigns and sends,
-- donations, collaborations, partnerships and research contracts, student
-- journey, consents and the audit log (R1.8, R1.9, R2.1-R2.5, R7.2-R7.3).
-- Same conventions as 00002 (docs/store.md).

-- +goose Up
-- Back-office users (R7.1-R7.2): a temporary account (interns) has expires_at
-- and is inactive from then on; see users_active.
CREATE TABLE users (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username     text    NOT NULL UNIQUE CHECK (username <> ''),
    email        text    NOT NULL DEFAULT '',
    display_name text    NOT NULL DEFAULT '',
    expires_at   timestamptz,
    disabled     boolean NOT NULL DEFAULT false,
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- A user's role in each office it works for.
CREATE TABLE user_roles (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    office  text   NOT NULL CHECK (office <> ''),
    role    text   NOT NULL CHECK (role IN ('admin', 'manager', 'editor', 'read_only')),
    PRIMARY KEY (user_id, office)
);

CREATE VIEW users_active AS
SELECT * FROM users WHERE NOT disabled AND (expires_at IS NULL OR expires_at > now());

ALTER TABLE organisations ADD CONSTRAINT organisations_account_manager_fk
    FOREIGN KEY (account_manager_id) REFERENCES users (id) ON DELETE SET NULL;

-- Recurring editions of an event (R2.2): template holds the configuration a
-- new edition copies.
CREATE TABLE event_series (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text    NOT NULL CHECK (name <> ''),
    office     text    NOT NULL DEFAULT '',
    recurrence text    NOT NULL DEFAULT '' CHECK (recurrence IN ('', 'weekly', 'monthly', 'termly', 'yearly', 'irregular')),
    template   jsonb   NOT NULL DEFAULT '{}',
    version    integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Events; a sub-event or parallel session has parent_id.
CREATE TABLE events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id  bigint  REFERENCES events (id) ON DELETE CASCADE,
    series_id  bigint  REFERENCES event_series (id) ON DELETE SET NULL,
    name       text    NOT NULL CHECK (name <> ''),
    kind       text    NOT NULL DEFAULT '',   -- open_day, conference, gala, webinar, ...
    office     text    NOT NULL DEFAULT '',
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz,
    location   text    NOT NULL DEFAULT '',
    is_online  boolean NOT NULL DEFAULT false,
    capacity   integer CHECK (capacity >= 0),
    version    integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at IS NULL OR ends_at >= starts_at),
    CHECK (parent_id <> id)
);
CREATE INDEX events_parent ON events (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX events_series ON events (series_id) WHERE series_id IS NOT NULL;
CREATE INDEX events_starts_at ON events (starts_at);

-- Invitations, registrations and attendance (R2.2), one row per person and event.
CREATE TABLE registrations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id      bigint  NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    person_id     bigint  NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    status        text    NOT NULL CHECK (status IN ('invited', 'registered', 'attended', 'no_show', 'cancelled')),
    source        text    NOT NULL DEFAULT '', -- open_day_app, eventbrite, form, import, manual
    invited_at    timestamptz,
    registered_at timestamptz,
    attended_at   timestamptz,
    is_vip        boolean NOT NULL DEFAULT false,
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, person_id)
);
CREATE INDEX registrations_person ON registrations (person_id);

-- Campaigns (R2.3); a reminder to those who did not open has reminder_of.
CREATE TABLE campaigns (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text    NOT NULL CHECK (name <> ''),
    channel        text    NOT NULL CHECK (channel IN ('email', 'sms', 'social')),
    sender_account text    NOT NULL DEFAULT '',
    office         text    NOT NULL DEFAULT '',
    newsletter     text    NOT NULL DEFAULT '', -- Frontiere, Orizzonti Sostenibili, ...
    subject        text    NOT NULL DEFAULT '',
    status         text    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
    scheduled_at   timestamptz,
    sent_at        timestamptz,
    reminder_of    bigint  REFERENCES campaigns (id) ON DELETE SET NULL,
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One recipient of a campaign and what they did with it.
CREATE TABLE campaign_sends (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    person_id   bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    address     text   NOT NULL DEFAULT '',  -- where it went (email or phone)
    status      text   NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'delivered', 'bounced', 'failed')),
    sent_at     timestamptz,
    opened_at   timestamptz,  -- first open
    clicked_at  timestamptz,  -- first click
    replied_at  timestamptz,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, person_id)
);
CREATE INDEX campaign_sends_person ON campaign_sends (person_id);

-- Every interaction (R2.1) with a person and/or an organisation.
CREATE TABLE interactions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id       bigint REFERENCES people (id) ON DELETE CASCADE,
    organisation_id bigint REFERENCES organisations (id) ON DELETE CASCADE,
    channel         text   NOT NULL CHECK (channel IN ('email', 'phone', 'sms', 'social', 'chatbot', 'meeting', 'note', 'event', 'letter', 'other')),
    direction       text   NOT NULL DEFAULT '' CHECK (direction IN ('', 'inbound', 'outbound')),
    occurred_at     timestamptz NOT NULL,
    subject         text   NOT NULL DEFAULT '',
    notes           text   NOT NULL DEFAULT '',
    staff_user_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    office          text   NOT NULL DEFAULT '',
    event_id        bigint REFERENCES events (id) ON DELETE SET NULL,
    campaign_id     bigint REFERENCES campaigns (id) ON DELETE SET NULL,
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (person_id IS NOT NULL OR organisation_id IS NOT NULL)
);
CREATE INDEX interactions_person ON interactions (person_id, occurred_at) WHERE person_id IS NOT NULL;
CREATE INDEX interactions_organisation ON interactions (organisation_id, occurred_at) WHERE organisation_id IS NOT NULL;

-- Donations (R2.4). A donor erased (right to be forgotten) leaves the
-- donation, anonymous, for the accounts.
CREATE TABLE donations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id       bigint REFERENCES people (id) ON DELETE SET NULL,
    organisation_id bigint REFERENCES organisations (id) ON DELETE SET NULL,
    amount          numeric(14, 2) NOT NULL CHECK (amount > 0),
    currency        text   NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    donated_on      date   NOT NULL,
    periodicity     text   NOT NULL DEFAULT 'one_off' CHECK (periodicity IN ('one_off', 'monthly', 'quarterly', 'yearly')),
    purpose         text   NOT NULL DEFAULT 'general' CHECK (purpose IN ('scholarship', 'membership_fee', 'research_project', 'general', 'other')),
    purpose_detail  text   NOT NULL DEFAULT '',
    campaign_id     bigint REFERENCES campaigns (id) ON DELETE SET NULL,
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX donations_person ON donations (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX donations_organisation ON donations (organisation_id) WHERE organisation_id IS NOT NULL;
CREATE INDEX donations_donated_on ON donations (donated_on);

-- Collaborations (R2.5): mentoring, sponsorships, partnerships of a person
-- and/or organisation; counterpart_id is the other person (a mentee).
CREATE TABLE collaborations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id       bigint REFERENCES people (id) ON DELETE CASCADE,
    organisation_id bigint REFERENCES organisations (id) ON DELETE CASCADE,
    counterpart_id  bigint REFERENCES people (id) ON DELETE SET NULL,
    kind            text   NOT NULL CHECK (kind IN ('mentoring', 'sponsorship', 'partnership', 'guest_lecture', 'internship_host', 'other')),
    role            text   NOT NULL DEFAULT '',
    start_date      date,
    end_date        date,
    notes           text   NOT NULL DEFAULT '',
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (person_id IS NOT NULL OR organisation_id IS NOT NULL)
);
CREATE INDEX collaborations_person ON collaborations (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX collaborations_organisation ON collaborations (organisation_id) WHERE organisation_id IS NOT NULL;

-- Products and partnerships per organisation (R1.8), with the lifecycle
-- stage of the organisation for that product (R1.5) and renewal reminders.
CREATE TABLE partnerships (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id    bigint  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    product            text    NOT NULL CHECK (product <> ''),  -- career day stand, job posting, research membership, ...
    kind               text    NOT NULL DEFAULT 'product' CHECK (kind IN ('product', 'partnership', 'sponsorship', 'membership')),
    stage              text    NOT NULL DEFAULT 'prospect' CHECK (stage IN ('prospect', 'negotiation', 'active', 'lapsed')),
    service_level      text    NOT NULL DEFAULT '',
    start_date         date,
    end_date           date,
    renewal_date       date,
    reminder_days      integer NOT NULL DEFAULT 30 CHECK (reminder_days >= 0), -- remind this many days before renewal_date
    account_manager_id bigint  REFERENCES users (id) ON DELETE SET NULL,
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX partnerships_organisation ON partnerships (organisation_id);
CREATE INDEX partnerships_renewal ON partnerships (renewal_date) WHERE renewal_date IS NOT NULL;

-- Research contracts imported from the contracts system (R1.8).
CREATE TABLE research_contracts (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contract_number    text    NOT NULL UNIQUE CHECK (contract_number <> ''),
    organisation_id    bigint  REFERENCES organisations (id) ON DELETE SET NULL,
    title              text    NOT NULL DEFAULT '',
    status             text    NOT NULL DEFAULT 'active' CHECK (status IN ('draft', 'active', 'expired', 'closed', 'cancelled')),
    start_date         date,
    end_date           date,
    scientific_lead    text    NOT NULL DEFAULT '',
    scientific_lead_id bigint  REFERENCES people (id) ON DELETE SET NULL,
    department         text    NOT NULL DEFAULT '',
    value              numeric(16, 2),
    currency           text    NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX research_contracts_organisation ON research_contracts (organisation_id) WHERE organisation_id IS NOT NULL;

-- Student journey (R1.9): the stages a person reached per programme.
CREATE TABLE journey_stages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id  bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    programme  text   NOT NULL CHECK (programme <> ''),
    stage      text   NOT NULL CHECK (stage IN ('first_contact', 'application', 'admission', 'enrolment')),
    reached_at timestamptz NOT NULL,
    touchpoint text   NOT NULL DEFAULT '', -- open day, fair, web form, chatbot, ...
    source     text   NOT NULL DEFAULT '',
    version    integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (person_id, programme, stage)
);

-- Consents per purpose (R7.3): one row per decision, kept as history;
-- consents_current is the latest per person and purpose. A minor's consent
-- names the guardian who gave it.
CREATE TABLE consents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     bigint  NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    purpose       text    NOT NULL CHECK (purpose IN ('newsletter', 'marketing', 'profiling', 'fundraising', 'events', 'images', 'third_parties')),
    granted       boolean NOT NULL,
    source        text    NOT NULL DEFAULT '', -- web form, paper, event app, import, ...
    recorded_at   timestamptz NOT NULL,
    guardian_name text    NOT NULL DEFAULT '',
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consents_person ON consents (person_id, purpose, recorded_at);

CREATE VIEW consents_current AS
SELECT DISTINCT ON (person_id, purpose) *
  FROM consents
 ORDER BY person_id, purpose, recorded_at DESC, id DESC;

-- Audit log (R7.3 data-usage monitoring): who did or read what. Append-only;
-- not a domain record, so no version and no outbox event.
CREATE TABLE audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    user_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    action    text   NOT NULL CHECK (action IN ('read', 'create', 'update', 'delete', 'merge', 'export', 'login')),
    entity    text   NOT NULL DEFAULT '',
    entity_id text   NOT NULL DEFAULT '',
    detail    jsonb  NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_user ON audit_log (user_id, at);

-- +goose Down
DROP TABLE audit_log;
DROP VIEW consents_current;
DROP TABLE consents;
DROP TABLE journey_stages;
DROP TABLE research_contracts;
DROP TABLE partnerships;
DROP TABLE collaborations;
DROP TABLE donations;
DROP TABLE interactions;
DROP TABLE campaign_sends;
DROP TABLE campaigns;
DROP TABLE registrations;
DROP TABLE events;
DROP TABLE event_series;
ALTER TABLE organisations DROP CONSTRAINT organisations_account_manager_fk;
DROP VIEW users_active;
DROP TABLE user_roles;
DROP TABLE users;
