//! The request state machine of design §4, as plain data and one pure function.
//!
//! ```text
//! RECEIVED -> VERIFYING -> COLLECTING -> IN_REVIEW -> APPROVED -> DISPATCHED -> CLOSED
//!                |            ^              |           |
//!                v            +-- CHANGES_REQUESTED <----+ (reviewer)
//!             REJECTED (identity failed, Art. 12(5))      (erasure, restriction, rectification,
//!                                                          objection: APPROVED -> EXECUTING
//!                                                          -> DISPATCHED)
//! any open state -> CANCELLED (withdrawn by the subject)
//! ```
//!
//! [`apply`] knows nothing of the database or GraphQL: the caller gathers a
//! [`Context`] (who acts, open tasks, who submitted and who collected), applies the
//! event, and stores the [`Transition`] with a version check.

use uuid::Uuid;

use crate::access::authz::Action;

stored_enum! {
    /// Where a request stands.
    RequestState {
        /// Received, identity not yet checked.
        Received => "RECEIVED",
        /// Identity verification is under way (e.g. a code was sent).
        Verifying => "VERIFYING",
        /// Identity verified; data is being collected from every mapped source.
        Collecting => "COLLECTING",
        /// Collected and waiting for a lawyer's decision.
        InReview => "IN_REVIEW",
        /// The reviewer sent it back with comments.
        ChangesRequested => "CHANGES_REQUESTED",
        /// Approved by a reviewer other than who collected and submitted it.
        Approved => "APPROVED",
        /// Erasure, restriction or rectification is being carried out.
        Executing => "EXECUTING",
        /// The answer went out; its content is final.
        Dispatched => "DISPATCHED",
        /// Done.
        Closed => "CLOSED",
        /// Refused (identity not verified, or Art. 12(5)).
        Rejected => "REJECTED",
        /// Withdrawn by the subject.
        Cancelled => "CANCELLED",
    }
}

stored_enum! {
    /// What the subject asks for.
    RequestKind {
        /// Art. 15: access to the data and information about its processing.
        Access => "ACCESS",
        /// Art. 16: correction of inaccurate data.
        Rectification => "RECTIFICATION",
        /// Art. 17: erasure.
        Erasure => "ERASURE",
        /// Art. 18: restriction of processing.
        Restriction => "RESTRICTION",
        /// Art. 20: a portable copy.
        Portability => "PORTABILITY",
        /// Art. 21: objection to processing.
        Objection => "OBJECTION",
    }
}

stored_enum! {
    /// Something that moves a request.
    RequestEvent {
        /// Start verifying the identity (e.g. send an e-mail code).
        StartVerification => "START_VERIFICATION",
        /// The identity is verified; collection starts.
        ConfirmIdentity => "CONFIRM_IDENTITY",
        /// The identity could not be verified; the request is refused.
        FailVerification => "FAIL_VERIFICATION",
        /// Collection is complete; hand over to legal review.
        SubmitForReview => "SUBMIT_FOR_REVIEW",
        /// The reviewer sends the request back.
        RequestChanges => "REQUEST_CHANGES",
        /// Collection resumes after requested changes.
        ResumeCollection => "RESUME_COLLECTION",
        /// The reviewer approves the answer.
        Approve => "APPROVE",
        /// The request is refused under Art. 12(5) (or for failed identity).
        Reject => "REJECT",
        /// Start carrying out erasure, restriction or rectification.
        StartExecution => "START_EXECUTION",
        /// The answer went out.
        Dispatch => "DISPATCH",
        /// Close a dispatched request.
        Close => "CLOSE",
        /// The subject withdrew the request.
        Cancel => "CANCEL",
    }
}

impl RequestState {
    /// No event leaves this state.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Closed | Self::Rejected | Self::Cancelled)
    }

    /// The request is still being worked on (counts against the deadline).
    pub fn is_open(self) -> bool {
        !self.is_final() && self != Self::Dispatched
    }

    /// Nothing about the answer may change any more (DISPATCHED and every final state).
    pub fn content_is_final(self) -> bool {
        !self.is_open()
    }
}

impl RequestKind {
    /// Whether approval is followed by carrying something out in the sources.
    pub fn requires_execution(self) -> bool {
        matches!(
            self,
            Self::Erasure | Self::Restriction | Self::Rectification | Self::Objection
        )
    }
}

impl RequestEvent {
    /// The name of the action that fires this event, as the audit log records it
    /// whether it succeeds, fails or is denied: the GraphQL mutation's name.
    pub fn operation(self) -> &'static str {
        use RequestEvent::*;
        match self {
            StartVerification => "startEmailVerification",
            ConfirmIdentity => "verifyIdentity",
            FailVerification => "failVerification",
            SubmitForReview => "submitForReview",
            ResumeCollection => "resumeCollection",
            RequestChanges => "requestChanges",
            Approve => "approveRequest",
            Reject => "rejectRequest",
            StartExecution => "startExecution",
            Dispatch => "dispatchRequest",
            Close => "closeRequest",
            Cancel => "cancelRequest",
        }
    }

    /// The Casbin action (on object `request`) that may fire this event.
    pub fn action(self) -> Action {
        use RequestEvent::*;
        match self {
            StartVerification | ConfirmIdentity | FailVerification => Action::Verify,
            SubmitForReview | ResumeCollection => Action::Submit,
            RequestChanges | Approve | Reject => Action::Review,
            StartExecution => Action::Execute,
            Dispatch | Close => Action::Dispatch,
            Cancel => Action::Cancel,
        }
    }

    /// Whether the event needs a reason.
    pub fn requires_reason(self) -> bool {
        matches!(
            self,
            Self::FailVerification | Self::Reject | Self::RequestChanges
        )
    }

    /// The state this event leads to from `from` for a request of `kind`, ignoring
    /// guards; `None` when the state does not allow it.
    pub fn target(self, from: RequestState, kind: RequestKind) -> Option<RequestState> {
        use RequestEvent as E;
        use RequestState::*;
        let to = match (self, from) {
            (E::StartVerification, Received) => Verifying,
            (E::ConfirmIdentity, Received | Verifying) => Collecting,
            (E::FailVerification, Received | Verifying) => Rejected,
            (E::SubmitForReview, Collecting) => InReview,
            (E::RequestChanges, InReview | Approved) => ChangesRequested,
            (E::ResumeCollection, ChangesRequested) => Collecting,
            (E::Approve, InReview) => Approved,
            (E::Reject, Received | Verifying | Collecting | InReview | ChangesRequested) => {
                Rejected
            }
            (E::StartExecution, Approved) if kind.requires_execution() => Executing,
            (E::Dispatch, Approved) if !kind.requires_execution() => Dispatched,
            (E::Dispatch, Executing) => Dispatched,
            (E::Close, Dispatched) => Closed,
            (E::Cancel, s) if s.is_open() => Cancelled,
            _ => return None,
        };
        Some(to)
    }
}

/// The events `state` allows for a request of `kind` (guards aside).
pub fn allowed_events(state: RequestState, kind: RequestKind) -> Vec<RequestEvent> {
    RequestEvent::ALL
        .iter()
        .copied()
        .filter(|e| e.target(state, kind).is_some())
        .collect()
}

/// What the guards need to know.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The API key firing the event.
    pub actor: Uuid,
    /// The request's kind.
    pub kind: RequestKind,
    /// Tasks of the request that are not done (collection or execution).
    pub open_tasks: usize,
    /// Who submitted the request for review most recently.
    pub submitted_by: Option<Uuid>,
    /// Who completed collection tasks of the request.
    pub collected_by: &'a [Uuid],
    /// The reason given with the event, if any (trimmed, may be empty).
    pub reason: Option<&'a str>,
    /// Leak findings that are neither redacted nor dismissed.
    pub open_findings: usize,
}

/// A permitted move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The event.
    pub event: RequestEvent,
    /// State before.
    pub from: RequestState,
    /// State after.
    pub to: RequestState,
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The state does not allow the event.
    #[error("{event} is not possible in state {state}; allowed: {}", list(allowed))]
    NotAllowed {
        /// The event.
        event: RequestEvent,
        /// The current state.
        state: RequestState,
        /// What the state allows.
        allowed: Vec<RequestEvent>,
    },
    /// A guard of the state machine failed (e.g. open tasks).
    #[error("{message}")]
    Guard {
        /// The event.
        event: RequestEvent,
        /// The current state.
        state: RequestState,
        /// What the state allows.
        allowed: Vec<RequestEvent>,
        /// What is missing.
        message: String,
    },
    /// Four-eyes principle: the approver collected or submitted the answer.
    #[error(
        "four-eyes principle: the request must be approved by someone other than who collected it or submitted it for review"
    )]
    FourEyes,
    /// The event requires a reason.
    #[error("{0} requires a reason")]
    ReasonRequired(RequestEvent),
}

impl std::fmt::Display for RequestEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for RequestState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn list(events: &[RequestEvent]) -> String {
    if events.is_empty() {
        "none (final state)".into()
    } else {
        events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Applies `event` to a request in `state`: the transition, or why not.
pub fn apply(
    state: RequestState,
    event: RequestEvent,
    ctx: &Context<'_>,
) -> Result<Transition, TransitionError> {
    let Some(to) = event.target(state, ctx.kind) else {
        return Err(TransitionError::NotAllowed {
            event,
            state,
            allowed: allowed_events(state, ctx.kind),
        });
    };
    if event.requires_reason() && ctx.reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(TransitionError::ReasonRequired(event));
    }
    let guard = |message: String| TransitionError::Guard {
        event,
        state,
        allowed: allowed_events(state, ctx.kind),
        message,
    };
    match event {
        RequestEvent::SubmitForReview | RequestEvent::Dispatch if ctx.open_tasks > 0 => {
            return Err(guard(format!(
                "{} task(s) of this request are not done yet; complete them before {event}",
                ctx.open_tasks
            )));
        }
        RequestEvent::Approve
            if ctx.submitted_by == Some(ctx.actor) || ctx.collected_by.contains(&ctx.actor) =>
        {
            return Err(TransitionError::FourEyes);
        }
        RequestEvent::Approve if ctx.open_findings > 0 => {
            return Err(guard(format!(
                "{} leak finding(s) are not resolved; redact or dismiss each before {event}",
                ctx.open_findings
            )));
        }
        _ => {}
    }
    Ok(Transition {
        event,
        from: state,
        to,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ctx<'a>(actor: Uuid, collected: &'a [Uuid]) -> Context<'a> {
        Context {
            actor,
            kind: RequestKind::Access,
            open_tasks: 0,
            submitted_by: None,
            collected_by: collected,
            reason: None,
            open_findings: 0,
        }
    }

    #[test]
    fn the_happy_path_of_an_access_request() {
        use RequestEvent::*;
        let (agent, reviewer) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut state = RequestState::Received;
        let collected = [agent];
        for (event, actor) in [
            (StartVerification, agent),
            (ConfirmIdentity, agent),
            (SubmitForReview, agent),
            (Approve, reviewer),
            (Dispatch, agent),
            (Close, agent),
        ] {
            let c = Context {
                submitted_by: Some(agent),
                ..ctx(actor, &collected)
            };
            state = apply(state, event, &c).unwrap().to;
        }
        assert_eq!(state, RequestState::Closed);
    }

    #[test]
    fn erasure_goes_through_execution() {
        let c = Context {
            kind: RequestKind::Erasure,
            ..ctx(Uuid::from_u128(1), &[])
        };
        let err = apply(RequestState::Approved, RequestEvent::Dispatch, &c).unwrap_err();
        assert_eq!(
            err,
            TransitionError::NotAllowed {
                event: RequestEvent::Dispatch,
                state: RequestState::Approved,
                allowed: vec![
                    RequestEvent::RequestChanges,
                    RequestEvent::StartExecution,
                    RequestEvent::Cancel
                ],
            }
        );
        let t = apply(RequestState::Approved, RequestEvent::StartExecution, &c).unwrap();
        assert_eq!(t.to, RequestState::Executing);
        let open = Context { open_tasks: 2, ..c };
        assert!(matches!(
            apply(RequestState::Executing, RequestEvent::Dispatch, &open),
            Err(TransitionError::Guard { .. })
        ));
        assert_eq!(
            apply(RequestState::Executing, RequestEvent::Dispatch, &c)
                .unwrap()
                .to,
            RequestState::Dispatched
        );
    }

    #[test]
    fn guards_refuse_with_reasons() {
        let me = Uuid::from_u128(7);
        let c = ctx(me, &[]);
        assert_eq!(
            apply(RequestState::InReview, RequestEvent::Reject, &c),
            Err(TransitionError::ReasonRequired(RequestEvent::Reject))
        );
        let blank = Context {
            reason: Some("  "),
            ..c
        };
        assert!(apply(RequestState::InReview, RequestEvent::RequestChanges, &blank).is_err());
        let submitted = Context {
            submitted_by: Some(me),
            ..c
        };
        assert_eq!(
            apply(RequestState::InReview, RequestEvent::Approve, &submitted),
            Err(TransitionError::FourEyes)
        );
        let collected = [me];
        assert_eq!(
            apply(
                RequestState::InReview,
                RequestEvent::Approve,
                &ctx(me, &collected)
            ),
            Err(TransitionError::FourEyes)
        );
        let leaky = Context {
            open_findings: 2,
            ..c
        };
        assert!(matches!(
            apply(RequestState::InReview, RequestEvent::Approve, &leaky),
            Err(TransitionError::Guard { .. })
        ));
        let open = Context { open_tasks: 1, ..c };
        let err = apply(
            RequestState::Collecting,
            RequestEvent::SubmitForReview,
            &open,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("1 task(s)"), "{err}");
        let err = apply(RequestState::Closed, RequestEvent::Cancel, &c)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "CANCEL is not possible in state CLOSED; allowed: none (final state)"
        );
    }

    #[test]
    fn every_event_names_a_request_action() {
        for e in RequestEvent::ALL {
            assert!(!matches!(
                e.action(),
                Action::Create | Action::Delete | Action::Read
            ));
        }
    }

    fn arb_step() -> impl Strategy<Value = (usize, usize, bool, usize)> {
        (
            0..RequestEvent::ALL.len(),
            0..3usize,     // which of three principals
            any::<bool>(), // reason given
            0..2usize,     // open tasks
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn random_walks_keep_the_invariants(
            kind in 0..RequestKind::ALL.len(),
            steps in proptest::collection::vec(arb_step(), 0..60),
        ) {
            let kind = RequestKind::ALL[kind];
            let principals = [Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3)];
            let mut state = RequestState::Received;
            let mut timeline: Vec<Transition> = Vec::new();
            let mut submitted_by = None;
            let mut collected_by: Vec<Uuid> = Vec::new();
            for (event, who, reason, open_tasks) in steps {
                let event = RequestEvent::ALL[event];
                let actor = principals[who];
                // Task completion by hand happens while collecting.
                if state == RequestState::Collecting && open_tasks == 0 && !collected_by.contains(&actor) {
                    collected_by.push(actor);
                }
                let c = Context {
                    actor,
                    kind,
                    open_tasks,
                    submitted_by,
                    collected_by: &collected_by,
                    reason: reason.then_some("because"),
                    open_findings: 0,
                };
                let before = state;
                match apply(state, event, &c) {
                    Ok(t) => {
                        prop_assert_eq!(t.from, before);
                        prop_assert!(!before.is_final(), "left final state {before}");
                        if before == RequestState::Dispatched {
                            prop_assert_eq!(t.to, RequestState::Closed);
                        }
                        if t.event == RequestEvent::Approve {
                            prop_assert_ne!(Some(actor), submitted_by);
                            prop_assert!(!collected_by.contains(&actor));
                        }
                        if t.event == RequestEvent::SubmitForReview {
                            prop_assert_eq!(open_tasks, 0);
                            submitted_by = Some(actor);
                        }
                        if t.event.requires_reason() {
                            prop_assert!(reason);
                        }
                        prop_assert!(RequestState::ALL.contains(&t.to));
                        timeline.push(t);
                        state = t.to;
                    }
                    Err(TransitionError::NotAllowed { allowed, .. }) => {
                        prop_assert!(!allowed.contains(&event));
                        if before.is_final() {
                            prop_assert!(allowed.is_empty());
                        }
                    }
                    Err(_) => {}
                }
                prop_assert_eq!(state, timeline.last().map_or(RequestState::Received, |t| t.to));
            }
            // The timeline is a chain: each transition starts where the last ended.
            let mut at = RequestState::Received;
            for t in &timeline {
                prop_assert_eq!(t.from, at);
                at = t.to;
            }
            prop_assert_eq!(at, state);
        }
    }
}
