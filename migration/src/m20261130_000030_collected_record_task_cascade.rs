//! The last foreign key of `collected_record` (its task) cost PostgreSQL a query per
//! stored value, about 0.5 ms per shop customer (260 values) of the store
//! transaction on the benchmark machine, where the whole collection takes about 6 ms.
//! A record is only ever written by its task's finish, in the transaction that
//! updated (and so locked) the task row, so the key never refuses anything there.
//! What it did besides is kept: deleting tasks (directly, or through the cascade
//! from a request or an organization) deletes their records, now by one
//! statement-level trigger per deleting statement, with the deleted rows as a
//! transition table. SQLite and MariaDB check a key with an index lookup and keep it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "CREATE FUNCTION request_task_deletes_records() RETURNS trigger \
             LANGUAGE plpgsql AS $$ \
             BEGIN \
               DELETE FROM collected_record WHERE task_id IN (SELECT id FROM gone); \
               RETURN NULL; \
             END $$",
        )
        .await?;
        conn.execute_unprepared(
            "CREATE TRIGGER request_task_deletes_records AFTER DELETE ON request_task \
             REFERENCING OLD TABLE AS gone FOR EACH STATEMENT \
             EXECUTE FUNCTION request_task_deletes_records()",
        )
        .await?;
        conn.execute_unprepared(
            "ALTER TABLE collected_record DROP CONSTRAINT IF EXISTS collected_record_task_id_fkey",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "ALTER TABLE collected_record \
             ADD CONSTRAINT collected_record_task_id_fkey FOREIGN KEY (task_id) \
               REFERENCES request_task (id) ON DELETE CASCADE",
        )
        .await?;
        conn.execute_unprepared(
            "DROP TRIGGER IF EXISTS request_task_deletes_records ON request_task",
        )
        .await?;
        conn.execute_unprepared("DROP FUNCTION IF EXISTS request_task_deletes_records()")
            .await?;
        Ok(())
    }
}
