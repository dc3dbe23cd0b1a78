package importexport

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"sesame/internal/seserr"
)

// The jobs' requests in SES's shapes (sesv2 CreateImportJob and
// CreateExportJob), as the API decodes them and the store keeps them.

// Import destinations and formats (SES's enumerations).
const (
	TypeSuppressionList = "SUPPRESSION_LIST"
	TypeContactList     = "CONTACT_LIST"
	TypeMetricsData     = "METRICS_DATA"
	TypeMessageInsights = "MESSAGE_INSIGHTS"

	ActionPut    = "PUT"
	ActionDelete = "DELETE"

	FormatCSV  = "CSV"
	FormatJSON = "JSON"
)

// ImportRequest is CreateImportJob's input.
type ImportRequest struct {
	ImportDestination *ImportDestination `json:",omitempty"`
	ImportDataSource  *ImportDataSource  `json:",omitempty"`
}

// ImportDestination is SES's: exactly one member.
type ImportDestination struct {
	SuppressionListDestination *SuppressionListDestination `json:",omitempty"`
	ContactListDestination     *ContactListDestination     `json:",omitempty"`
}

type SuppressionListDestination struct {
	SuppressionListImportAction string
}

type ContactListDestination struct {
	ContactListName         string
	ContactListImportAction string
}

type ImportDataSource struct {
	S3Url      string
	DataFormat string
}

// Type is the job's ImportDestinationType.
func (r *ImportRequest) Type() string {
	if r.ImportDestination.ContactListDestination != nil {
		return TypeContactList
	}
	return TypeSuppressionList
}

// Action is PUT or DELETE.
func (r *ImportRequest) Action() string {
	if c := r.ImportDestination.ContactListDestination; c != nil {
		return c.ContactListImportAction
	}
	return r.ImportDestination.SuppressionListDestination.SuppressionListImportAction
}

// Validate checks the request as SES does: required members first, then
// the enumerations and the URL.
func (r *ImportRequest) Validate() error {
	switch {
	case r.ImportDestination == nil:
		return seserr.MissingParameter("ImportDestination")
	case r.ImportDataSource == nil:
		return seserr.MissingParameter("ImportDataSource")
	}
	d := r.ImportDestination
	if (d.SuppressionListDestination == nil) == (d.ContactListDestination == nil) {
		return seserr.ImportDestinationOneOf()
	}
	if s := d.SuppressionListDestination; s != nil {
		if s.SuppressionListImportAction == "" {
			return seserr.MissingParameter("SuppressionListImportAction")
		}
	}
	if c := d.ContactListDestination; c != nil {
		if c.ContactListName == "" {
			return seserr.MissingParameter("ContactListName")
		}
		if c.ContactListImportAction == "" {
			return seserr.MissingParameter("ContactListImportAction")
		}
	}
	src := r.ImportDataSource
	switch {
	case src.S3Url == "":
		return seserr.MissingParameter("S3Url")
	case src.DataFormat == "":
		return seserr.MissingParameter("DataFormat")
	}
	if a := r.Action(); a != ActionPut && a != ActionDelete {
		return seserr.InvalidEnumValue("ImportAction", a, "PUT, DELETE")
	}
	if f := src.DataFormat; f != FormatCSV && f != FormatJSON {
		return seserr.InvalidEnumValue("DataFormat", f, "CSV, JSON")
	}
	if _, err := ParseS3URL(src.S3Url, false); err != nil {
		return seserr.InvalidS3URL("S3Url", src.S3Url, err.Error())
	}
	return nil
}

// Timestamp is a v2 timestamp: seconds since the epoch as a JSON number.
type Timestamp time.Time

func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64)), nil
}

func (t *Timestamp) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("not a timestamp: %s", b)
	}
	*t = Timestamp(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}

// ExportRequest is CreateExportJob's input.
type ExportRequest struct {
	ExportDataSource  *ExportDataSource  `json:",omitempty"`
	ExportDestination *ExportDestination `json:",omitempty"`
}

type ExportDataSource struct {
	MetricsDataSource         *MetricsDataSource         `json:",omitempty"`
	MessageInsightsDataSource *MessageInsightsDataSource `json:",omitempty"`
}

type ExportDestination struct {
	DataFormat string
	S3Url      string `json:",omitempty"`
}

type MetricsDataSource struct {
	Dimensions map[string][]string
	Namespace  string
	Metrics    []ExportMetric
	StartDate  *Timestamp
	EndDate    *Timestamp
}

type ExportMetric struct {
	Name        string `json:",omitempty"`
	Aggregation string `json:",omitempty"`
}

type MessageInsightsDataSource struct {
	StartDate  *Timestamp
	EndDate    *Timestamp
	Include    *MessageInsightsFilters `json:",omitempty"`
	Exclude    *MessageInsightsFilters `json:",omitempty"`
	MaxResults *int                    `json:",omitempty"`
}

type MessageInsightsFilters struct {
	FromEmailAddress    []string `json:",omitempty"`
	Destination         []string `json:",omitempty"`
	Subject             []string `json:",omitempty"`
	Isp                 []string `json:",omitempty"`
	LastDeliveryEvent   []string `json:",omitempty"`
	LastEngagementEvent []string `json:",omitempty"`
}

// maxInsightsResults is SES's bound on MaxResults (and the default).
const maxInsightsResults = 10000

// Type is the job's ExportSourceType.
func (r *ExportRequest) Type() string {
	if r.ExportDataSource.MetricsDataSource != nil {
		return TypeMetricsData
	}
	return TypeMessageInsights
}

// exportable are the metrics sesame counts (per recipient, from its events).
var exportable = map[string]bool{"SEND": true, "DELIVERY": true, "PERMANENT_BOUNCE": true,
	"TRANSIENT_BOUNCE": true, "COMPLAINT": true, "OPEN": true, "CLICK": true}

// vdmMetrics are SES's Metric names.
var vdmMetrics = "SEND, COMPLAINT, PERMANENT_BOUNCE, TRANSIENT_BOUNCE, OPEN, CLICK, DELIVERY, DELIVERY_OPEN, DELIVERY_CLICK, DELIVERY_COMPLAINT"

// Validate checks the request.
func (r *ExportRequest) Validate() error {
	switch {
	case r.ExportDataSource == nil:
		return seserr.MissingParameter("ExportDataSource")
	case r.ExportDestination == nil:
		return seserr.MissingParameter("ExportDestination")
	}
	src := r.ExportDataSource
	if (src.MetricsDataSource == nil) == (src.MessageInsightsDataSource == nil) {
		return seserr.ExportDataSourceOneOf()
	}
	var start, end *Timestamp
	if m := src.MetricsDataSource; m != nil {
		switch {
		case m.Dimensions == nil:
			return seserr.MissingParameter("Dimensions")
		case m.Namespace == "":
			return seserr.MissingParameter("Namespace")
		case m.Metrics == nil:
			return seserr.MissingParameter("Metrics")
		case m.StartDate == nil:
			return seserr.MissingParameter("StartDate")
		case m.EndDate == nil:
			return seserr.MissingParameter("EndDate")
		case m.Namespace != "VDM":
			return seserr.InvalidEnumValue("Namespace", m.Namespace, "VDM")
		}
		for dim := range m.Dimensions {
			if dim != "EMAIL_IDENTITY" && dim != "CONFIGURATION_SET" && dim != "ISP" {
				return seserr.InvalidEnumValue("Dimensions", dim, "EMAIL_IDENTITY, CONFIGURATION_SET, ISP")
			}
		}
		if len(m.Metrics) == 0 {
			return seserr.MissingParameter("Metrics")
		}
		for _, mt := range m.Metrics {
			if mt.Aggregation != "" && mt.Aggregation != "RATE" && mt.Aggregation != "VOLUME" {
				return seserr.InvalidEnumValue("Aggregation", mt.Aggregation, "RATE, VOLUME")
			}
			if !exportable[mt.Name] {
				if mt.Name == "" || !containsWord(vdmMetrics, mt.Name) {
					return seserr.InvalidEnumValue("Name", mt.Name, vdmMetrics)
				}
				return seserr.UnsupportedExportMetric(mt.Name)
			}
		}
		start, end = m.StartDate, m.EndDate
	}
	if m := src.MessageInsightsDataSource; m != nil {
		switch {
		case m.StartDate == nil:
			return seserr.MissingParameter("StartDate")
		case m.EndDate == nil:
			return seserr.MissingParameter("EndDate")
		case m.MaxResults != nil && (*m.MaxResults < 1 || *m.MaxResults > maxInsightsResults):
			return seserr.InvalidMaxResults(maxInsightsResults)
		}
		start, end = m.StartDate, m.EndDate
	}
	if !time.Time(*end).After(time.Time(*start)) {
		return seserr.InvalidDateRange()
	}
	d := r.ExportDestination
	if d.DataFormat == "" {
		return seserr.MissingParameter("DataFormat")
	}
	if d.DataFormat != FormatCSV && d.DataFormat != FormatJSON {
		return seserr.InvalidEnumValue("DataFormat", d.DataFormat, "CSV, JSON")
	}
	// SES writes to a bucket of its own when S3Url is absent; sesame has
	// none, so the destination is required.
	if d.S3Url == "" {
		return seserr.MissingParameter("S3Url")
	}
	if _, err := ParseS3URL(d.S3Url, true); err != nil {
		return seserr.InvalidS3URL("S3Url", d.S3Url, err.Error())
	}
	return nil
}

func containsWord(list, w string) bool { return slices.Contains(strings.Split(list, ", "), w) }
