/** Pulumi type tokens of the resources the rules inspect. */

export const AWS = {
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  queueRedrivePolicy: "aws:sqs/redrivePolicy:RedrivePolicy",
  queueRedriveAllowPolicy: "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  policyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
  rolePolicyAttachmentsExclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
  rolePoliciesExclusive: "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive",
  accessKey: "aws:iam/accessKey:AccessKey",
  podIdentityAssociation: "aws:eks/podIdentityAssociation:PodIdentityAssociation",
  eksCluster: "aws:eks/cluster:Cluster",
  eksAccessEntry: "aws:eks/accessEntry:AccessEntry",
  eksAccessPolicyAssociation: "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
  eksAddon: "aws:eks/addon:Addon",
  metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  snsTopic: "aws:sns/topic:Topic",
  snsTopicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  snsTopicSubscription: "aws:sns/topicSubscription:TopicSubscription",
  kmsKey: "aws:kms/key:Key",
  kmsKeyPolicy: "aws:kms/keyPolicy:KeyPolicy",
  kmsGrant: "aws:kms/grant:Grant",
  kmsAlias: "aws:kms/alias:Alias",
  ecrRepositoryPolicy: "aws:ecr/repositoryPolicy:RepositoryPolicy",
  ecrRegistryPolicy: "aws:ecr/registryPolicy:RegistryPolicy",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  securityGroupIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  ecrRepository: "aws:ecr/repository:Repository",
  ecrLifecyclePolicy: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  launchConfiguration: "aws:ec2/launchConfiguration:LaunchConfiguration",
  eksNodeGroup: "aws:eks/nodeGroup:NodeGroup",
} as const;

/** Components of @pulumi/eks. Under mocks a component is one recorded resource without children. */
export const EKS = {
  cluster: "eks:index:Cluster",
  managedNodeGroup: "eks:index:ManagedNodeGroup",
  nodeGroup: "eks:index:NodeGroup",
  nodeGroupV2: "eks:index:NodeGroupV2",
} as const;

export const K8S = {
  namespace: "kubernetes:core/v1:Namespace",
  secret: "kubernetes:core/v1:Secret",
  configMap: "kubernetes:core/v1:ConfigMap",
  pod: "kubernetes:core/v1:Pod",
  replicationController: "kubernetes:core/v1:ReplicationController",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  replicaSet: "kubernetes:apps/v1:ReplicaSet",
  job: "kubernetes:batch/v1:Job",
  cronJob: "kubernetes:batch/v1:CronJob",
  podDisruptionBudget: "kubernetes:policy/v1:PodDisruptionBudget",
} as const;

/** "aws:sqs/queue:Queue" -> "Queue": how messages name a resource's kind. */
export function kindOf(type: string): string {
  return type.slice(type.lastIndexOf(":") + 1);
}
