-- User ids are never reused (sql/003_user_ids_never_reused.sql for PostgreSQL).
--
-- The audit log keeps actor and target ids forever (no foreign key, by design), so a reused
-- id would attribute one person's actions to another, and a stale /users/<id> link would
-- reach a stranger. users.id (001) comes from an identity sequence: nextval never returns a
-- value twice, even across rollbacks and crashes, so the sequence itself is the high-water
-- mark that SQLite keeps in user_id_high_water. GENERATED ALWAYS refuses an explicit id
-- unless the writer says OVERRIDING SYSTEM VALUE (an import, a restore: the repositories
-- never do); this trigger keeps the mark right for such rows too, as SQLite's trigger does,
-- so the sequence never hands out an id that an explicitly inserted user holds or held.

CREATE FUNCTION users_id_high_water() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
  seq regclass := pg_get_serial_sequence('public.users', 'id')::regclass;
BEGIN
  -- A generated id is never above the mark: no lock, no write on the common path.
  IF NEW.id > coalesce(pg_sequence_last_value(seq), 0) THEN
    -- setval is not transactional: serialise raisers so the mark never goes down.
    PERFORM pg_advisory_xact_lock(hashtext('secure-api users.id high-water'));
    IF NEW.id > coalesce(pg_sequence_last_value(seq), 0) THEN
      PERFORM setval(seq, NEW.id);
    END IF;
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION users_id_high_water() FROM PUBLIC;

CREATE TRIGGER users_id_high_water AFTER INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION users_id_high_water();
