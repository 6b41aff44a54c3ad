//! Webhooks: subscriptions of an organization (URL, events, a sealed signing secret)
//! and their deliveries, written in the transaction of the change that causes them
//! and delivered at least once afterwards (the delivery log).

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookSubscription {
    Table,
    Id,
    OrgId,
    Url,
    Events,
    Secret,
    Description,
    Active,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDelivery {
    Table,
    Id,
    OrgId,
    SubscriptionId,
    EventId,
    Event,
    RequestId,
    Payload,
    Attempts,
    NextAttemptAt,
    DeliveredAt,
    LastStatus,
    LastError,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookSubscription::Table)
                    .if_not_exists()
                    .col(uuid(WebhookSubscription::Id).primary_key())
                    .col(uuid(WebhookSubscription::OrgId))
                    .col(string_len(WebhookSubscription::Url, 2000))
                    // Event names, comma-separated.
                    .col(string_len(WebhookSubscription::Events, 500))
                    // The signing secret, sealed with the key for data at rest.
                    .col(text(WebhookSubscription::Secret))
                    .col(string_len_null(WebhookSubscription::Description, 200))
                    .col(boolean(WebhookSubscription::Active))
                    .col(uuid(WebhookSubscription::CreatedBy))
                    .col(timestamp_not_null(manager, WebhookSubscription::CreatedAt))
                    .col(timestamp_not_null(manager, WebhookSubscription::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookSubscription::Table, WebhookSubscription::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_subscription_org")
                    .table(WebhookSubscription::Table)
                    .col(WebhookSubscription::OrgId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDelivery::Table)
                    .if_not_exists()
                    .col(uuid(WebhookDelivery::Id).primary_key())
                    .col(uuid(WebhookDelivery::OrgId))
                    .col(uuid(WebhookDelivery::SubscriptionId))
                    .col(uuid(WebhookDelivery::EventId))
                    .col(string_len(WebhookDelivery::Event, 50))
                    .col(uuid_null(WebhookDelivery::RequestId))
                    .col(text(WebhookDelivery::Payload))
                    .col(integer(WebhookDelivery::Attempts))
                    .col(timestamp_not_null(manager, WebhookDelivery::NextAttemptAt))
                    .col(timestamp_null(manager, WebhookDelivery::DeliveredAt))
                    .col(integer_null(WebhookDelivery::LastStatus))
                    .col(string_len_null(WebhookDelivery::LastError, 1000))
                    .col(timestamp_not_null(manager, WebhookDelivery::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDelivery::Table, WebhookDelivery::SubscriptionId)
                            .to(WebhookSubscription::Table, WebhookSubscription::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The deliverer's scan: undelivered, due first.
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_delivery_due")
                    .table(WebhookDelivery::Table)
                    .col(WebhookDelivery::DeliveredAt)
                    .col(WebhookDelivery::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // The delivery log of a subscription, and "was this request's overdue sent?".
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_delivery_subscription")
                    .table(WebhookDelivery::Table)
                    .col(WebhookDelivery::SubscriptionId)
                    .col(WebhookDelivery::Event)
                    .col(WebhookDelivery::RequestId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDelivery::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookSubscription::Table).to_owned())
            .await
    }
}
