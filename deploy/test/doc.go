// Package deploytest checks the deployment material under deploy/ against the image it deploys.
package deploytest
