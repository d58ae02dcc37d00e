output "vpc_id" {
  description = "The VPC's id."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "The VPC's address range."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Subnets for the internet-facing load balancer, one per zone."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Subnets for the tasks, the database and the cache, one per zone."
  value       = aws_subnet.private[*].id
}

output "app_security_group_id" {
  description = "Security group of the service tasks; the data stores admit only this group."
  value       = aws_security_group.app.id
}
