package seserr

import "fmt"

// Import and export jobs (v2): the refusals of Create/Get/List/Cancel, and
// the texts a job reports in its FailureInfo or next to a failed record.

// NoObjectStore: CreateImportJob/CreateExportJob while [s3] has no
// endpoint. sesame never falls back to AWS's S3.
func NoObjectStore() *Error {
	return BadRequest("Import and export jobs need an S3-compatible object store, and this sesame has none " +
		"configured: set [s3] endpoint (and access_key_id, secret_access_key) in sesame's configuration.")
}

// InvalidS3URL: an S3Url that is not s3://bucket/key.
func InvalidS3URL(member, url, why string) *Error {
	return BadRequest(fmt.Sprintf("Invalid %s <%s>: it %s (expected s3://bucket/key).", member, url, why))
}

// ImportJobNotFound: GetImportJob of an unknown job.
func ImportJobNotFound(id string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Import job <%s> does not exist.", id))
}

// ExportJobNotFound: Get/CancelExportJob of an unknown job.
func ExportJobNotFound(id string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Export job <%s> does not exist.", id))
}

// ExportJobNotCancellable: CancelExportJob of a job that has finished.
func ExportJobNotCancellable(id, status string) *Error {
	return BadRequest(fmt.Sprintf("Export job <%s> is %s and can no longer be cancelled.", id, status))
}

// ImportDestinationOneOf: ImportDestination with neither or both members.
func ImportDestinationOneOf() *Error {
	return BadRequest("ImportDestination must have exactly one of SuppressionListDestination and ContactListDestination.")
}

// ExportDataSourceOneOf: ExportDataSource with neither or both members.
func ExportDataSourceOneOf() *Error {
	return BadRequest("ExportDataSource must have exactly one of MetricsDataSource and MessageInsightsDataSource.")
}

// InvalidDateRange: an export's EndDate not after its StartDate.
func InvalidDateRange() *Error {
	return BadRequest("EndDate must be after StartDate.")
}

// UnsupportedExportMetric: a metric sesame cannot count.
func UnsupportedExportMetric(name string) *Error {
	return BadRequest(fmt.Sprintf("sesame cannot export metric %s: it counts SEND, DELIVERY, PERMANENT_BOUNCE, "+
		"TRANSIENT_BOUNCE, COMPLAINT, OPEN and CLICK.", name))
}

// InvalidMaxResults: MessageInsightsDataSource.MaxResults out of range.
func InvalidMaxResults(max int) *Error {
	return BadRequest(fmt.Sprintf("MaxResults must be between 1 and %d.", max))
}

// What a job reports when it fails as a whole (FailureInfo.ErrorMessage).
const (
	JobTooManyRecords  = "The data source has more records than an import job takes (100000)."
	JobNoEmailColumn   = "The CSV data source's header row must name an emailAddress column."
	JobContactListGone = "The contact list does not exist."
	JobInterrupted     = "The job was interrupted and could not be resumed."
	JobFailedInSesame  = "The job failed inside sesame; the server log says why."
)

// JobReadFailed: the data source could not be read; code is the S3
// error's (NoSuchKey, AccessDenied, …) or "" when there was no answer.
func JobReadFailed(code string) string {
	return "Failed to read the data source object from the S3 bucket" + s3Code(code)
}

// JobWriteFailed: the export could not be written.
func JobWriteFailed(code string) string {
	return "Failed to write the export to the S3 bucket" + s3Code(code)
}

func s3Code(code string) string {
	if code == "" {
		return ": the object store did not answer."
	}
	return ": " + code + "."
}

// Why a record of an import failed (next to it in the failed records).
func RecordUnparsable(why string) string { return "The record could not be parsed: " + why }

const (
	RecordInvalidAddress = "The emailAddress is missing or is not a valid email address."
	RecordInvalidReason  = "The reason must be BOUNCE or COMPLAINT."
	RecordInvalidUnsub   = "unsubscribeAll must be true or false."
	RecordInvalidAttrs   = "attributesData must be a JSON document of at most 64 KiB."
)

// RecordUnknownTopic: a topic preference for a topic the list lacks.
func RecordUnknownTopic(topic string) string {
	return fmt.Sprintf("The contact list has no topic %s.", topic)
}

// RecordInvalidStatus: a topic preference other than OPT_IN/OPT_OUT.
func RecordInvalidStatus(topic string) string {
	return fmt.Sprintf("The subscription status of topic %s must be OPT_IN or OPT_OUT.", topic)
}
