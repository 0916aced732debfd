// Package dashboard holds the end-to-end tests of the dashboard and the customer portal: a real
// Hookline server from internal/testserver, real loopback receivers, and real headless Chromium
// driven by chromedp; plus plain HTTP client tests of the CSRF and tenancy rules.
//
// With HOOKLINE_SCREENSHOTS=1 (or -screenshots) the browser tests also write the screenshots of
// every page, light and dark, to docs/screenshots/ (screenshots_test.go; docs/dashboard.md).
package dashboard
