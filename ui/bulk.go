package ui

// bulkFormID is the id of the bulk-resend form, which the rows' checkboxes name.
const bulkFormID = "bulk-resend"
