// Package quota enforces SES's per account+region sending limits: the max
// send rate (recipients per second, short bursts tolerated) and the rolling
// 24-hour quota (recipients), counted as SES counts them.
//
// CONTRACT STUB: to be implemented.
package quota

// Limiter tracks send rates and 24-hour counts.
type Limiter struct{}
