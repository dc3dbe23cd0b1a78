// Package reputation keeps SES's sending statistics and enforces its
// reputation rules.
//
// The counters (store.send_statistics, 15-minute buckets per account,
// region and configuration set) are kept by the event outbox itself: each
// Send, Bounce, Complaint and Reject record internal/events appends carries
// what it adds (store.SendCounts), and the statistics change in the
// transaction that inserts it, so every event counts once, also after a
// crash and a replay. GetSendStatistics and the rates read those counters,
// never the events. The mailbox simulator's recipients are not counted, as
// in SES's metrics.
//
// The Evaluator computes, now and then, each account's bounce rate (hard
// bounces, less those of the account's suppression list) and complaint
// rate over a representative volume of its recent sends (the newest
// buckets until they hold Config.Volume recipients, at most Config.Window
// back), and the same per configuration set whose ReputationMetricsEnabled
// is on. At the review thresholds it puts the account on PROBATION; at the
// pause thresholds it pauses sending (the account's SendingEnabled, or the
// set's), which the sending path already refuses with SES's errors. It
// never lifts a pause: an operator or PutAccountSendingAttributes does, and
// from then on only sends from the next bucket on count, so the bounces
// that caused the pause do not impose it again at once. It never touches
// SHUTDOWN (an operator's suspension) and clears only the PROBATION it set.
//
// What it does not do: SES's human review ("pending end of review
// decision"), the exclusion of bounces from verified recipients, and
// CloudWatch metrics.
package reputation
