-- OptiInfra state. Applied on every start; every statement is idempotent.
CREATE TABLE IF NOT EXISTS customers (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS analyses (
    id           text PRIMARY KEY,
    customer_id  text NOT NULL REFERENCES customers(id),
    kind         text NOT NULL,
    region       text NOT NULL,
    status       text NOT NULL,
    agents       text[] NOT NULL,
    results      jsonb NOT NULL DEFAULT '{}'::jsonb,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS analyses_customer ON analyses (customer_id, created_at);
CREATE TABLE IF NOT EXISTS recommendations (
    id                         text PRIMARY KEY,
    customer_id                text NOT NULL REFERENCES customers(id),
    analysis_id                text NOT NULL REFERENCES analyses(id),
    kind                       text NOT NULL,
    status                     text NOT NULL,
    estimated_monthly_savings  numeric(14, 2) NOT NULL,
    confidence                 double precision NOT NULL,
    risk                       double precision NOT NULL,
    details                    jsonb NOT NULL,
    similar_patterns           jsonb NOT NULL DEFAULT '[]'::jsonb,
    required_validators        text[] NOT NULL,
    reason                     text,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS recommendations_customer ON recommendations (customer_id, created_at);
CREATE TABLE IF NOT EXISTS validations (
    recommendation_id  text NOT NULL REFERENCES recommendations(id),
    agent              text NOT NULL,
    verdict            text NOT NULL,
    reason             text NOT NULL,
    data               jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (recommendation_id, agent)
);
CREATE TABLE IF NOT EXISTS optimizations (
    id                         text PRIMARY KEY,
    customer_id                text NOT NULL REFERENCES customers(id),
    recommendation_id          text NOT NULL UNIQUE REFERENCES recommendations(id),
    status                     text NOT NULL,
    predicted_monthly_savings  numeric(14, 2) NOT NULL,
    actual_monthly_savings     numeric(14, 2),
    cost_before                numeric(14, 2),
    cost_after                 numeric(14, 2),
    quality_score              double precision,
    spot_instance_ids          text[] NOT NULL DEFAULT '{}',
    rollback_requested         text,
    reason                     text,
    pattern_id                 text,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    started_at                 timestamptz,
    finished_at                timestamptz
);
CREATE INDEX IF NOT EXISTS optimizations_customer ON optimizations (customer_id, created_at);
CREATE TABLE IF NOT EXISTS optimization_steps (
    optimization_id  text NOT NULL REFERENCES optimizations(id),
    seq              integer NOT NULL,
    name             text NOT NULL,
    status           text NOT NULL,
    traffic_pct      integer NOT NULL,
    detail           jsonb NOT NULL DEFAULT '{}'::jsonb,
    started_at       timestamptz,
    finished_at      timestamptz,
    PRIMARY KEY (optimization_id, seq)
);
CREATE TABLE IF NOT EXISTS audit (
    id           bigserial PRIMARY KEY,
    customer_id  text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text NOT NULL,
    action       text NOT NULL,
    from_status  text,
    to_status    text,
    data         jsonb NOT NULL DEFAULT '{}'::jsonb,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS audit_entity ON audit (customer_id, entity_id);
-- Results already applied, by task id: a redelivered result is applied once.
CREATE TABLE IF NOT EXISTS processed_tasks (
    task_id  text PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now()
);
-- Transactional outbox: tasks and events written with the state change, relayed to Redis.
CREATE TABLE IF NOT EXISTS outbox (
    id       bigserial PRIMARY KEY,
    stream   text NOT NULL,
    body     jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at  timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
