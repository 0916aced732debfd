// Package dashboard holds the end-to-end tests of the dashboard and the customer portal: a real
// Hookline server from internal/testserver, real loopback receivers, and real headless Chromium
// driven by chromedp; plus plain HTTP client tests of the CSRF and tenancy rules.
//
// With HOOKLINE_SCREENSHOTS=1 (or -screenshots) the browser test also writes PNG screenshots of
// the main pages to docs/screenshots/.
package dashboard
