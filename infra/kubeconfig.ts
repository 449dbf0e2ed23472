/**
 * A kubeconfig for an EKS cluster that authenticates with `aws eks get-token`: the caller's own AWS
 * credentials, no static token. Used to reach a cluster this program adopts but did not create.
 */
import * as pulumi from "@pulumi/pulumi";

export interface EksEndpoint {
  /** EKS cluster name. */
  readonly clusterName: pulumi.Input<string>;
  /** API server URL (https://...). */
  readonly endpoint: pulumi.Input<string>;
  /** Base64-encoded certificate authority data of the API server. */
  readonly certificateAuthorityData: pulumi.Input<string>;
  /** Region of the cluster. */
  readonly region: string;
}

/** The kubeconfig, as a JSON string (kubectl and the Kubernetes provider accept JSON). */
export function eksKubeconfig(cluster: EksEndpoint): pulumi.Output<string> {
  const name = "eks";
  return pulumi.jsonStringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name, cluster: { server: cluster.endpoint, "certificate-authority-data": cluster.certificateAuthorityData } },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: [
              "eks",
              "get-token",
              "--cluster-name",
              cluster.clusterName,
              "--region",
              cluster.region,
              "--output",
              "json",
            ],
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}
