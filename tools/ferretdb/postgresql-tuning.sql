-- Lets PostgreSQL use indexes for the filters FerretDB 1.x sends it. Applied by scripts/infra.ts to the
-- `ferretdb` database every time it prepares it (every statement here is idempotent).
--
-- FerretDB 1.24 keeps each collection as a table of JSONB documents and turns an equality filter into
-- `WHERE _jsonb->$1 @> $2`. The btree indexes it creates for createIndex (on `(_jsonb -> 'field')`) can
-- answer neither `@>` nor a key given as a parameter, so every findOne, even by _id, scanned the whole
-- table (36 ms at 100,000 documents here). Two changes make those filters index lookups (1.4 ms):
--   * a GIN "twin" on the same expression beside every btree index FerretDB creates (GIN answers @>);
--   * plan_cache_mode = force_custom_plan, so the key parameter is planned as the constant it is.
-- On MongoDB none of this exists or is needed: indexes there answer these filters natively.

ALTER DATABASE ferretdb SET plan_cache_mode = force_custom_plan;

CREATE OR REPLACE FUNCTION retail_mesh_gin_twins(index_oid oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  def text := pg_get_indexdef(index_oid);
  table_name text;
  schema_name text;
  field text;
BEGIN
  IF def NOT LIKE '% USING btree %' THEN
    RETURN;
  END IF;
  SELECT c.relname, n.nspname INTO table_name, schema_name
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE i.indexrelid = index_oid;
  -- Top-level fields only: `((_jsonb -> 'field'::text))`; dotted paths are nested -> and stay as they are.
  FOR field IN SELECT m[1] FROM regexp_matches(def, '\(\(_jsonb -> ''([^'']+)''::text\)\)', 'g') AS m LOOP
    EXECUTE format(
      'CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb -> %L)) WITH (fastupdate = off)',
      left(table_name, 40) || '_' || left(md5(field), 10) || '_gin', schema_name, table_name, field
    );
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION retail_mesh_on_create_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  command record;
BEGIN
  FOR command IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' LOOP
    PERFORM retail_mesh_gin_twins(command.objid);
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS retail_mesh_gin_twins;
CREATE EVENT TRIGGER retail_mesh_gin_twins ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION retail_mesh_on_create_index();

-- Tables FerretDB made before this file was applied get their twins now.
SELECT retail_mesh_gin_twins(i.indexrelid)
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am am ON am.oid = c.relam
  WHERE am.amname = 'btree' AND pg_get_indexdef(i.indexrelid) LIKE '%(_jsonb -> %';
