// Package synapse is a Go SDK for security incident-response automation
// around TheHive.
//
// It re-creates, as an embeddable library, the idea of TheHive-Project's
// Synapse: typed connectors for security products and workflows that chain
// their calls, so that an alert's context is copied into TheHive by code
// rather than by an analyst.
//
// The module is organised by product:
//
//   - [github.com/synapse-go/synapse/thehive]: a typed client for the
//     TheHive 5 REST API and a receiver for its webhooks; thehive/thehivetest
//     is an in-process fake TheHive.
//   - [github.com/synapse-go/synapse/ews]: mailboxes reached through EWS,
//     Microsoft Graph or IMAP behind one small interface; ews/ewstest holds
//     fake EWS and Graph servers.
//   - [github.com/synapse-go/synapse/qradar]: a typed IBM QRadar client;
//     qradar/qradartest is an in-process fake QRadar.
//   - [github.com/synapse-go/synapse/observable]: email (MIME) parsing and
//     extraction of observables (IPs, domains, URLs, addresses, hashes...).
//   - [github.com/synapse-go/synapse/workflow]: composable steps, a reliable
//     runner and the built-in pipelines (Ews2Case, Ews2Alert, QRadar2Alert,
//     closing offenses when their case is resolved).
//
// This root package holds no code; it only documents the module.
package synapse
