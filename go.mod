module github.com/synapse-go/synapse

go 1.24.0

require (
	github.com/Azure/go-ntlmssp v0.1.1
	github.com/JohannesKaufmann/html-to-markdown/v2 v2.5.0
	github.com/emersion/go-imap/v2 v2.0.0-beta.8
	github.com/emersion/go-message v0.18.2
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/google/go-cmp v0.7.0
	github.com/hashicorp/go-retryablehttp v0.7.8
	github.com/robfig/cron/v3 v3.0.1
	go.yaml.in/yaml/v3 v3.0.4
	golang.org/x/net v0.50.0
	golang.org/x/oauth2 v0.35.0
	golang.org/x/text v0.34.0
)

require (
	github.com/JohannesKaufmann/dom v0.2.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
)
