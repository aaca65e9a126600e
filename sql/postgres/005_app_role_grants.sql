-- The application role's privileges: exactly what the repositories need, nothing else.
-- Migrations run as the owner role (APP_DATABASE_OWNER_URL); after applying them, the
-- migrator calls secure_api_grant_app_role($1) with the role of APP_DATABASE_URL as a bound
-- parameter, on every start, so the grants are re-asserted (drift is undone) and a later
-- migration that adds a table only has to CREATE OR REPLACE this function.
-- The role name reaches SQL only through format('%I'), never by string building.

CREATE FUNCTION secure_api_grant_app_role(app_role text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) THEN
    RAISE EXCEPTION 'role % does not exist', quote_ident(app_role) USING ERRCODE = 'undefined_object';
  END IF;
  IF app_role = current_user THEN
    RAISE EXCEPTION 'the application role % is the owner role: nothing to grant', quote_ident(app_role);
  END IF;
  -- Start from nothing, then grant: anything granted by hand since the last start is taken back.
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', app_role);
  EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', app_role);
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app_role);
  EXECUTE format(
    'GRANT SELECT, INSERT, UPDATE, DELETE ON public.users, public.roles, public.permissions, '
      'public.role_permissions, public.user_roles, public.products, public.tokens TO %I',
    app_role);
  -- Read-only: bumped by SECURITY DEFINER triggers; the migration history, to check the schema.
  EXECUTE format('GRANT SELECT ON public.authz_generation, public.schema_migrations TO %I', app_role);
  -- Append-only: no UPDATE, DELETE or TRUNCATE, whatever happens to the triggers.
  EXECUTE format('GRANT SELECT, INSERT ON public.audit_log TO %I', app_role);
  -- No DDL: no objects in the schema (PostgreSQL 15's default for new databases, asserted for
  -- databases created from an older template) and no temporary tables. A database's own
  -- privileges are not copied by CREATE DATABASE ... TEMPLATE nor always by a restore, so
  -- they are asserted here, on every start, not once in a migration. (Only the database's
  -- owner can revoke these; for anyone else PostgreSQL turns it into a warning.)
  REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  EXECUTE format('REVOKE CREATE ON SCHEMA public FROM %I', app_role);
  EXECUTE format('REVOKE TEMPORARY, CREATE ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('REVOKE TEMPORARY, CREATE ON DATABASE %I FROM %I', current_database(), app_role);
END
$$;
REVOKE ALL ON FUNCTION secure_api_grant_app_role(text) FROM PUBLIC;
