package reputation

import "sesame/internal/store"

// Bucket is the length of a statistics bucket: SES's GetSendStatistics
// answers in 15-minute data points.
const Bucket = store.StatsBucket
